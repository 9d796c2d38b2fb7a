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
/// rounds of: curl of the data blob from the same registry (the network limit), a cold sequential read through a fresh
/// mount (new cache dir, page cache dropped) with the daemon's RSS sampled, the same file fully cached (page cache
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

        var curls = new List<double>();
        var colds = new List<(double Seconds, double DaemonCpu, double RegistryCpu, double ReaderCpu, long PeakRss, long Hwm)>();
        var cached = new List<double>();
        var latencies = new List<double>();
        var cachedLatencies = new List<double>();
        var hashesMatch = true;
        for (var round = 0; round < rounds; round++)
        {
            var watch = Stopwatch.StartNew();
            Run("curl", "-sf", "-o", "/dev/null", $"http://127.0.0.1:{port}/v2/bench/big/blobs/{blob.Digest}");
            curls.Add(watch.Elapsed.TotalSeconds);

            var (mount, pid) = StartMount(reference, mnt, Fresh(scratch, $"fuse-cache-seq{round}"), $"seq{round}", fuseArgs);
            DropCaches();
            long peak = 0;
            var cpu0 = CpuSeconds(pid);
            var sys0 = SystemCpuSeconds(pid);
            var registry0 = CpuSeconds(registryPid);
            var self0 = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
            double cold;
            using (new Timer(_ => peak = Math.Max(peak, Rss(pid)), null, 0, 50))
            {
                cold = ReadAll(bigFile);
            }

            var daemonSys = SystemCpuSeconds(pid) - sys0;
            colds.Add((cold, CpuSeconds(pid) - cpu0, CpuSeconds(registryPid) - registry0, Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds - self0,
                Math.Max(peak, Rss(pid)), PeakRss(pid)));

            // Fully cached: every chunk is in the sparse cache file; dropping the page cache leaves the daemon to
            // answer each READ from that file (on disk).
            DropCaches();
            cached.Add(ReadAll(bigFile));
            hashesMatch &= HashFile(bigFile) == expectedHash;
            DropCaches();
            cachedLatencies.AddRange(RandomReads(bigFile, data.Length, RandomReadCount, 11 + round));
            StopMount(mount);

            (mount, _) = StartMount(reference, mnt, Fresh(scratch, $"fuse-cache-rand{round}"), $"rand{round}", fuseArgs);
            DropCaches();
            latencies.AddRange(RandomReads(bigFile, data.Length, RandomReadCount, 11 + round));
            StopMount(mount);
            var c = colds[^1];
            Console.Error.WriteLine($"round {round}: curl {curls[^1]:F3} s, cold {c.Seconds:F3} s (daemon cpu {c.DaemonCpu:F2} s of which kernel {daemonSys:F2} s, registry {c.RegistryCpu:F2} s, reader {c.ReaderCpu:F2} s, rss {c.PeakRss >> 20} MiB, hwm {c.Hwm >> 20} MiB), cached {cached[^1]:F3} s");
        }

        var mb = data.Length / 1e6;
        var storedMb = blob.Size / 1e6;
        var curlMedian = Median(curls);
        var coldMedian = colds.OrderBy(x => x.Seconds).ElementAt(colds.Count / 2);
        latencies.Sort();
        cachedLatencies.Sort();
        report.AppendLine("| measurement | value |");
        report.AppendLine("|---|---:|");
        report.AppendLine($"| file size | {data.Length >> 20} MiB ({storedMb:F1} MB stored, zstd, 1 MiB chunks) |");
        report.AppendLine($"| curl of the data blob, median of {rounds} | {storedMb / curlMedian:F0} MB/s stored ({curlMedian:F3} s; all: {Join(curls)} s) |");
        report.AppendLine($"| cold sequential read through FUSE, median of {rounds} | {mb / coldMedian.Seconds:F0} MB/s of file ({coldMedian.Seconds:F3} s; all: {Join(colds.Select(x => x.Seconds))} s) |");
        report.AppendLine($"| cold sequential / curl, file bytes per second (per round: {Join(colds.Select((x, i) => mb / x.Seconds / (storedMb / curls[i])), "F2")}) | **{mb / coldMedian.Seconds / (storedMb / curlMedian):F2}x** |");
        report.AppendLine($"| cold sequential / curl, stored bytes per second | {storedMb / coldMedian.Seconds / (storedMb / curlMedian):F2}x |");
        report.AppendLine($"| CPU during that cold read: daemon / docker-registry / reader (of {Environment.ProcessorCount} x {coldMedian.Seconds:F2} s) | {coldMedian.DaemonCpu:F2} s / {coldMedian.RegistryCpu:F2} s / {coldMedian.ReaderCpu:F2} s |");
        report.AppendLine($"| fully cached image, sequential (page cache dropped; READs answered from the sparse cache file), median | {mb / Median(cached):F0} MB/s ({Median(cached):F3} s; all: {Join(cached)} s) |");
        report.AppendLine($"| cold 4 KiB random read p50 / p99 (n={latencies.Count}, a fresh mount per round) | {Percentile(latencies, 0.50):F2} ms / {Percentile(latencies, 0.99):F2} ms |");
        report.AppendLine($"| fully cached image, 4 KiB random read p50 / p99 (page cache dropped, same offsets; n={cachedLatencies.Count}) | {Percentile(cachedLatencies, 0.50):F2} ms / {Percentile(cachedLatencies, 0.99):F2} ms |");
        report.AppendLine($"| daemon RSS during the cold read: peak VmRSS sampled every 50 ms / VmHWM, max over rounds | {colds.Max(x => x.PeakRss) / 1048576.0:F0} MiB / {colds.Max(x => x.Hwm) / 1048576.0:F0} MiB |");
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
