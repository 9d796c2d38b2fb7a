using Snapshotter.Lazy.Conversion;
using Snapshotter.Oci;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Snapshotter.Erofs;
using Snapshotter.Erofs.Conversion;
using Snapshotter.Registry;
using static BenchTools;

/// <summary>
/// The FUSE mode on the host's real kernel (6.18, no cachefiles): `snapshotter mount --lazy-mode fuse` (blob files over
/// FUSE, EROFS mounted from the local bootstrap with them as devices), as shipped (BENCH_SNAPSHOTTER). Interleaved
/// rounds of: curl of the data blob from the same registry (the network limit), once with the blob in the registry's
/// page cache and once with it evicted; a cold sequential read through a fresh mount (new cache dir, page cache
/// dropped) for each of those two registry states, with the daemon's RSS sampled; the same file fully cached (page cache
/// dropped again: the daemon answers every READ from its sparse cache file), cold 4 KiB random reads through another
/// fresh mount; then `find` + lstat over a 10k-file tree through our mount vs squashfuse over a squashfs of the same
/// tree, cold and warm; then FOPEN_KEEP_CACHE on and off for a re-mount of a cached image (in this process).
/// </summary>
internal static class FuseBenchmark
{
    private const int RandomReadCount = 200;

    public static async Task<string> RunAsync(RegistryClient client, string reference, Descriptor blob, byte[] data, int port, int registryPid, string scratch)
    {
        var rounds = int.Parse(Environment.GetEnvironmentVariable("BENCH_ROUNDS") ?? "5", System.Globalization.CultureInfo.InvariantCulture);
        var mnt = Directory.CreateDirectory(Path.Combine(scratch, "fuse-mnt")).FullName;
        var bigFile = Path.Combine(mnt, "big.bin");
        var expectedHash = Convert.ToHexStringLower(SHA256.HashData(data));
        var fuseArgs = new[] { "--lazy-mode", "fuse" };
        var report = new StringBuilder();

        if (Environment.GetEnvironmentVariable("BENCH_PERF") is { } perfOut)
        {
            // Profiled cold read (whole system: daemon, registry, reader, kernel), not counted. Set BENCH_MOUNT_ENV=DOTNET_PerfMapEnabled=1.
            var (mount, pid) = StartMount(reference, mnt, Fresh(scratch, "fuse-cache-perf"), "perf", fuseArgs);
            DropCaches();
            var perf = Process.Start(new ProcessStartInfo("perf", ["record", "-a", "-g", "-F", "999", "-o", perfOut]) { RedirectStandardError = true })!;
            Thread.Sleep(1500);
            var seconds = ReadAll(bigFile);
            Run("kill", "-INT", perf.Id.ToString());
            perf.WaitForExit();
            Console.Error.WriteLine($"profiled cold read: {seconds:F2} s -> {perfOut}");
            StopMount(mount);
        }

        // Two fair pairs per round, because the registry's own page cache moves curl's time ~3x here (blob evicted:
        // 0.16-0.24 s; in the page cache: 0.05-0.06 s) and drop_caches before a cold read evicts it too. Each pair
        // measures curl and our cold read against a registry in the same state: blob in the registry's page cache
        // (the network limit proper: what a remote registry's link gives), and blob evicted (both pay its disk read).
        var encoded = blob.Digest["sha256:".Length..];
        var registryBlob = Path.Combine(scratch, "bench-registry", "data", "docker", "registry", "v2", "blobs", "sha256", encoded[..2], encoded, "data");
        var curls = new List<double>();
        var curlsEvicted = new List<double>();
        var colds = new List<ColdRead>();
        var coldsEvicted = new List<ColdRead>();
        var cached = new List<double>();
        var latencies = new List<double>();
        var cachedLatencies = new List<double>();
        var hashesMatch = true;
        for (var round = 0; round < rounds; round++)
        {
            DropCaches();
            curlsEvicted.Add(Curl(port, blob));
            WarmFile(registryBlob);
            curls.Add(Curl(port, blob));

            // Cold read with the registry's blob in its page cache (pairs with the curl just before), and cold read with
            // it evicted as well (pairs with the round's first curl); which goes first alternates, because a read right
            // after another one's pages were freed costs the kernel less on this VM (bench/RESULTS.md).
            Process? mount = null;
            var pid = 0;
            for (var pass = 0; pass < 2; pass++)
            {
                var evicted = (pass + round) % 2 == 1;
                if (mount is not null)
                {
                    StopMount(mount);
                }

                var name = evicted ? $"seq{round}" : $"seqw{round}";
                (mount, pid) = StartMount(reference, mnt, Fresh(scratch, $"fuse-cache-{name}"), name, fuseArgs);
                DropCaches();
                if (!evicted)
                {
                    WarmFile(registryBlob);
                }

                (evicted ? coldsEvicted : colds).Add(ColdReadOnce(bigFile, pid, registryPid));
            }

            // Fully cached: every chunk is in the sparse cache file; dropping the page cache leaves the daemon to
            // answer each READ from that file (on disk).
            DropCaches();
            cached.Add(ReadAll(bigFile));
            hashesMatch &= HashFile(bigFile) == expectedHash;
            DropCaches();
            cachedLatencies.AddRange(RandomReads(bigFile, data.Length, RandomReadCount, 11 + round));
            StopMount(mount!);

            (mount, _) = StartMount(reference, mnt, Fresh(scratch, $"fuse-cache-rand{round}"), $"rand{round}", fuseArgs);
            DropCaches();
            latencies.AddRange(RandomReads(bigFile, data.Length, RandomReadCount, 11 + round));
            StopMount(mount);
            Console.Error.WriteLine($"round {round}: registry blob cached: curl {curls[^1]:F3} s, cold {colds[^1]}; evicted: curl {curlsEvicted[^1]:F3} s, cold {coldsEvicted[^1]}; cached {cached[^1]:F3} s");
        }

        var mb = data.Length / 1e6;
        var storedMb = blob.Size / 1e6;
        latencies.Sort();
        cachedLatencies.Sort();
        report.AppendLine("| measurement | value |");
        report.AppendLine("|---|---:|");
        report.AppendLine($"| file size | {data.Length >> 20} MiB ({storedMb:F1} MB stored, zstd, 1 MiB chunks) |");
        AppendPair(report, "blob in the registry's page cache (the network limit)", curls, colds, mb, storedMb, rounds);
        AppendPair(report, "blob evicted from the registry's page cache too (both read it from disk)", curlsEvicted, coldsEvicted, mb, storedMb, rounds);
        report.AppendLine($"| cold read with the registry's blob evicted / curl with it cached (how earlier runs paired them), per round | {Join(coldsEvicted.Select((x, i) => mb / x.Seconds / (storedMb / curls[i])), "F2")} |");
        report.AppendLine($"| fully cached image, sequential (page cache dropped; READs answered from the sparse cache file), median | {mb / Median(cached):F0} MB/s ({Median(cached):F3} s; all: {Join(cached)} s) |");
        report.AppendLine($"| cold 4 KiB random read p50 / p99 (n={latencies.Count}, a fresh mount per round) | {Percentile(latencies, 0.50):F2} ms / {Percentile(latencies, 0.99):F2} ms |");
        report.AppendLine($"| fully cached image, 4 KiB random read p50 / p99 (page cache dropped, same offsets; n={cachedLatencies.Count}) | {Percentile(cachedLatencies, 0.50):F2} ms / {Percentile(cachedLatencies, 0.99):F2} ms |");
        report.AppendLine($"| daemon RSS during the cold reads: peak VmRSS sampled every 50 ms / VmHWM, max over rounds | {colds.Concat(coldsEvicted).Max(x => x.PeakRss) / 1048576.0:F0} MiB / {colds.Concat(coldsEvicted).Max(x => x.Hwm) / 1048576.0:F0} MiB |");
        report.AppendLine($"| content check | {(hashesMatch ? "sha256 matches (every round, after the cached read)" : "MISMATCH")} |");
        if (Environment.GetEnvironmentVariable("BENCH_READS_ONLY") == "1")
        {
            // Quick before/after of the READ path: no metadata walk, keep-cache probe or levers.
            return report.ToString();
        }

        report.AppendLine();
        report.AppendLine(await MetadataWalkAsync(client, port, scratch, rounds, fuseArgs));
        report.AppendLine();
        report.AppendLine(await KeepCacheProbe.RunAsync(client, reference, scratch, rounds));
        report.AppendLine();
        report.AppendLine(await FuseLevers.RunAsync(client, reference, blob, data.Length, port, registryPid, scratch));
        return report.ToString();
    }

    private static double Curl(int port, Descriptor blob)
    {
        var watch = Stopwatch.StartNew();
        Run("curl", "-sf", "-o", "/dev/null", $"http://127.0.0.1:{port}/v2/bench/big/blobs/{blob.Digest}");
        return watch.Elapsed.TotalSeconds;
    }

    /// <summary>Reads a file into the page cache (the registry's blob, so that it serves from memory as for curl).</summary>
    private static void WarmFile(string path)
    {
        using var file = File.OpenRead(path);
        file.CopyTo(Stream.Null, 1 << 20);
    }

    /// <summary>One timed sequential read of the whole file through a fresh mount, with the CPU of everyone involved.</summary>
    private static ColdRead ColdReadOnce(string bigFile, int pid, int registryPid)
    {
        long peak = 0;
        var cpu0 = CpuSeconds(pid);
        var sys0 = SystemCpuSeconds(pid);
        var registry0 = CpuSeconds(registryPid);
        var self0 = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
        double seconds;
        using (new Timer(_ => peak = Math.Max(peak, Rss(pid)), null, 0, 50))
        {
            seconds = ReadAll(bigFile);
        }

        return new ColdRead(seconds, CpuSeconds(pid) - cpu0, SystemCpuSeconds(pid) - sys0, CpuSeconds(registryPid) - registry0,
            Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds - self0, Math.Max(peak, Rss(pid)), PeakRss(pid));
    }

    /// <summary>Report rows of one pairing: curl, the cold read and their ratio in file bytes, per round and median.</summary>
    private static void AppendPair(StringBuilder report, string state, List<double> curls, List<ColdRead> colds, double mb, double storedMb, int rounds)
    {
        var curlMedian = Median(curls);
        var cold = colds.OrderBy(x => x.Seconds).ElementAt(colds.Count / 2);
        var ratios = colds.Select((x, i) => mb / x.Seconds / (storedMb / curls[i])).ToList();
        report.AppendLine($"| {state}: curl of the data blob, median of {rounds} | {storedMb / curlMedian:F0} MB/s stored ({curlMedian:F3} s; all: {Join(curls)} s) |");
        report.AppendLine($"| {state}: cold sequential read through FUSE, median | {mb / cold.Seconds:F0} MB/s of file ({cold.Seconds:F3} s; all: {Join(colds.Select(x => x.Seconds))} s) |");
        report.AppendLine($"| {state}: **cold sequential / curl**, file bytes per second over stored bytes per second (per round: {Join(ratios, "F2")}) | **{Median(ratios):F2}x** |");
        report.AppendLine($"| {state}: CPU during the median cold read: daemon (kernel) / docker-registry / reader (of {Environment.ProcessorCount} x {cold.Seconds:F2} s) | {cold.DaemonCpu:F2} ({cold.DaemonSystemCpu:F2}) s / {cold.RegistryCpu:F2} s / {cold.ReaderCpu:F2} s |");
    }

    /// <summary>
    /// `find DIR -printf '%p %s %m %U %T@'` (an lstat of every entry) over a tree of 10,000 small files in 220
    /// directories: our mount (EROFS from the local bootstrap, blob files over FUSE) vs squashfuse over a squashfs of
    /// the same tree. Cold = page cache, dentries and inodes dropped; warm = right after.
    /// </summary>
    private static async Task<string> MetadataWalkAsync(RegistryClient client, int port, string scratch, int rounds, string[] fuseArgs)
    {
        var entries = TreeEntries();
        var treeLayout = Fresh(scratch, "tree-src");
        WriteLayout(treeLayout, entries);
        var reference = $"127.0.0.1:{port}/bench/tree:lazy";
        await ImageConverter.ConvertAsync(
            new OciLayout(treeLayout, "v1"),
            new RegistryImageSink(client, Snapshotter.Registry.ImageReference.Parse(reference)),
            new ImageBuildOptions { Compressor = ChunkCompressor.Zstd, ChunkSize = 1024 * 1024, Digester = BenchTools.Digester },
            workDirectory: scratch);

        // The same tree on disk, for mksquashfs (default options: gzip, 128 KiB blocks).
        var tree = Fresh(scratch, "tree");
        foreach (var (path, bytes) in entries)
        {
            var full = Path.Combine(tree, path);
            if (bytes is null)
            {
                Directory.CreateDirectory(full);
            }
            else
            {
                File.WriteAllBytes(full, bytes);
            }
        }

        var squashImage = Path.Combine(scratch, "tree.squashfs");
        File.Delete(squashImage);
        Run("mksquashfs", tree, squashImage, "-quiet", "-no-progress");
        var ours = Directory.CreateDirectory(Path.Combine(scratch, "tree-mnt")).FullName;
        var squash = Directory.CreateDirectory(Path.Combine(scratch, "tree-squashfuse")).FullName;
        var (mount, _) = StartMount(reference, ours, Fresh(scratch, "fuse-cache-tree"), "tree", fuseArgs);
        if (Directory.EnumerateFileSystemEntries(squash).Any())
        {
            Run("umount", squash);
        }

        Run("squashfuse", squashImage, squash);
        try
        {
            var files = entries.Count(e => e.Data is not null);
            var oursCount = Count(Path.Combine(ours, "t"));
            var squashCount = Count(Path.Combine(squash, "t"));
            if (oursCount != squashCount || oursCount != entries.Count)
            {
                throw new InvalidOperationException($"the trees differ: ours {oursCount} entries, squashfuse {squashCount}, expected {entries.Count}");
            }

            // States: cold = page cache, dentries and inodes dropped (both read their image from disk); metadata cold =
            // dentries and inodes dropped, page cache kept (what a container start on a just-pulled image sees: the
            // bootstrap, or the squashfs image, is in memory, the tree's metadata is not); warm = right after. The
            // tree on ext4 (the source) is the floor: find(1)'s own cost.
            var dirs = new[] { ("ours", ours), ("squashfuse", squash), ("ext4", tree) };
            var states = new[] { ("cold: caches dropped", "3"), ("metadata cold: dentries + inodes dropped, page cache kept", "2"), ("warm", "") };
            var results = dirs.ToDictionary(d => d.Item1, _ => states.ToDictionary(x => x.Item1, _ => new List<double>()));
            var walkRounds = Math.Max(rounds, 5);
            for (var round = 0; round < walkRounds; round++)
            {
                for (var i = 0; i < dirs.Length; i++)
                {
                    var (name, dir) = dirs[(i + round) % dirs.Length];
                    var t = Path.Combine(dir, "t");
                    foreach (var (state, drop) in states)
                    {
                        if (drop.Length > 0)
                        {
                            Walk(t);
                            Run("sh", "-c", $"sync; echo {drop} > /proc/sys/vm/drop_caches");
                        }

                        results[name][state].Add(Walk(t));
                    }
                }

                Console.Error.WriteLine($"walk round {round}: " + string.Join("; ", dirs.Select(d => $"{d.Item1} " + string.Join("/", states.Select(x => $"{results[d.Item1][x.Item1][^1] * 1000:F0}")))) + " ms");
            }

            var text = new StringBuilder();
            text.AppendLine($"| `find -printf '%p %s %m %U %T@'` (an lstat each) of {entries.Count} entries ({files} files), median of {walkRounds}, interleaved | ours (EROFS on the local bootstrap, blobs over FUSE) | squashfuse | squashfuse / ours | ext4 (the source tree; find's floor) |");
            text.AppendLine("|---|---:|---:|---:|---:|");
            foreach (var (state, _) in states)
            {
                var o = results["ours"][state];
                var q = results["squashfuse"][state];
                var e = results["ext4"][state];
                text.AppendLine($"| {state} | {Median(o) * 1000:F0} ms (all: {Join(o.Select(x => x * 1000), "F0")}) | {Median(q) * 1000:F0} ms (all: {Join(q.Select(x => x * 1000), "F0")}) | **{Median(q) / Median(o):F1}x** | {Median(e) * 1000:F0} ms |");
            }

            return text.ToString();
        }
        finally
        {
            StopMount(mount);
            Run("umount", squash);
        }
    }

    /// <summary>20 x 10 directories of 50 text files of 0-4 KiB each, under t/.</summary>
    private static List<(string Path, byte[]? Data)> TreeEntries()
    {
        var random = new Random(5);
        var entries = new List<(string, byte[]?)> { ("t/", null) };
        for (var a = 0; a < 20; a++)
        {
            entries.Add(($"t/d{a:D2}/", null));
            for (var b = 0; b < 10; b++)
            {
                entries.Add(($"t/d{a:D2}/s{b}/", null));
                for (var f = 0; f < 50; f++)
                {
                    var text = new StringBuilder();
                    var size = random.Next(0, 4096);
                    while (text.Length < size)
                    {
                        text.Append(System.Globalization.CultureInfo.InvariantCulture, $"{a}/{b}/{f} line {text.Length}\n");
                    }

                    entries.Add(($"t/d{a:D2}/s{b}/f{f:D2}.txt", Encoding.ASCII.GetBytes(text.ToString(0, size))));
                }
            }
        }

        return entries;
    }

    private static double Walk(string dir)
    {
        var watch = Stopwatch.StartNew();
        Run("sh", "-c", $"find '{dir}' -printf '%p %s %m %U %T@\\n' > /dev/null");
        return watch.Elapsed.TotalSeconds;
    }

    private static int Count(string dir)
    {
        using var p = Process.Start(new ProcessStartInfo("find", [dir]) { RedirectStandardOutput = true })!;
        var lines = p.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
        p.WaitForExit();
        return lines;
    }

    internal static string Fresh(string scratch, string name)
    {
        var path = Path.Combine(scratch, name);
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }

        return Directory.CreateDirectory(path).FullName;
    }

    internal static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    internal static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)(p * sorted.Count))];

    internal static string Join(IEnumerable<double> values, string format = "F3") => string.Join(", ", values.Select(v => v.ToString(format, System.Globalization.CultureInfo.InvariantCulture)));
}
