using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Snapshotter.Erofs;
using Snapshotter.Erofs.Compression;
using Snapshotter.Erofs.Conversion;
using Snapshotter.Erofs.Reading;
using Snapshotter.Oci;
using Snapshotter.Registry;
using Snapshotter.Lazy.Conversion;
using static BenchTools;

// On-demand read benchmark (issue: cache daemon). Inside one VM run: a 256 MiB file converted (zstd, 1 MiB chunks)
// into a loopback docker-registry; cold sequential read through `snapshotter mount` vs the same file once cached
// (page cache dropped) vs curl downloading the data blob; cold 4 KiB random read latency; daemon RSS.
const int FileMiB = 256;
// `--host`: no VM, no kernel; measures the daemon's fetch pipeline on the host's CPU against curl (HostPipeline).
var hostOnly = args.Contains("--host");
// `--fuse`: on the host's real kernel, the FUSE mode (`snapshotter mount --lazy-mode fuse`) against curl, the cached
// image and squashfuse (FuseBenchmark).
var fuse = args.Contains("--fuse");
// `--levers`: fuse-mode settings compared side by side in this process (FuseLevers).
var scratch = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? "/run/scratch";
// BENCH_SNAPSHOTTER: the daemon to measure (bench/run-ondemand.sh passes the ReadyToRun publish that scripts/serve.sh
// and the Dockerfile ship); defaults to the build output next to this program.
var snapshotter = Environment.GetEnvironmentVariable("BENCH_SNAPSHOTTER") ?? Path.Combine(AppContext.BaseDirectory, "snapshotter.dll");

var port = FreePort();
var regDir = Directory.CreateDirectory(Path.Combine(scratch, "bench-registry")).FullName;
File.WriteAllText(Path.Combine(regDir, "config.yml"), $"version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {regDir}/data\nhttp:\n  addr: 127.0.0.1:{port}\n");
using var registry = Process.Start(new ProcessStartInfo("docker-registry", ["serve", Path.Combine(regDir, "config.yml")]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
WaitForPort(port);
var reference = $"127.0.0.1:{port}/bench/big:lazy";

Console.Error.WriteLine("building and converting the image...");
var layout = Directory.CreateDirectory(Path.Combine(scratch, "bench-src")).FullName;
var data = new byte[FileMiB * 1024 * 1024];
new Random(7).NextBytes(data.AsSpan(0, data.Length / 2)); // half random, half zeros-then-text: realistic-ish compressibility
for (var i = data.Length / 2; i < data.Length; i += 64)
{
    Encoding.ASCII.GetBytes($"line {i:D12} of a log-like text file\n").CopyTo(data.AsSpan(i));
}

WriteLayout(layout, [("big.bin", data)]);
using (var client = new RegistryClient(new RegistryClientOptions { HostsDirectory = null }))
{
    var result = await ImageConverter.ConvertAsync(
        new OciLayout(layout, "v1"),
        new RegistryImageSink(client, Snapshotter.Registry.ImageReference.Parse(reference)),
        new ImageBuildOptions { Compressor = ChunkCompressor.Zstd, ChunkSize = 1024 * 1024, Digester = BenchTools.Digester },
        workDirectory: scratch);
    var blob = result.DataBlobs[0];

    var budget = await CpuBudgetAsync(client, reference, blob.Digest, port, scratch);
    if (args.Contains("--levers"))
    {
        Console.WriteLine(await FuseLevers.RunAsync(client, reference, blob, data.Length, port, registry.Id, scratch));
        registry.Kill();
        return 0;
    }

    if (fuse)
    {
        Console.WriteLine(await FuseBenchmark.RunAsync(client, reference, blob, data, port, registry.Id, scratch));
        Console.WriteLine(budget);
        registry.Kill();
        return 0;
    }

    if (hostOnly)
    {
        Console.WriteLine(await HostPipeline.RunAsync(client, Snapshotter.Registry.ImageReference.Parse(reference), blob.Digest, port, scratch, rounds: 5));
        Console.WriteLine(budget);
        registry.Kill();
        return 0;
    }

    // Rounds interleave the baseline (curl downloading the whole data blob from the same registry) with a cold
    // sequential read through a fresh `snapshotter mount` (new cache dir and domain): the VM's speed drifts.
    const int Rounds = 3;
    var mnt = Directory.CreateDirectory(Path.Combine("/tmp", "bench-mnt")).FullName;
    var expectedHash = Convert.ToHexStringLower(SHA256.HashData(data));
    var curls = new List<double>();
    var colds = new List<(double Seconds, double DaemonCpu, double ReaderCpu, double RegistryCpu)>();
    long peakRss = 0, rssAfter = 0;
    double cachedSeconds = 0;
    var hashesMatch = true;
    for (var round = 0; round < Rounds; round++)
    {
        var curl = Stopwatch.StartNew();
        Run("curl", "-sf", "-o", "/dev/null", $"http://127.0.0.1:{port}/v2/bench/big/blobs/{blob.Digest}");
        curls.Add(curl.Elapsed.TotalSeconds);

        var (mount, pid) = StartMount(reference, mnt, Path.Combine(scratch, $"bench-cache-seq{round}"), $"seq{round}");
        using (var sampler = new Timer(_ => peakRss = Math.Max(peakRss, Rss(pid)), null, 0, 100))
        {
            Process? perf = null;
            if (round == 0 && Environment.GetEnvironmentVariable("BENCH_PERF") is { } perfOut)
            {
                perf = Process.Start(new ProcessStartInfo("perf", ["record", "-a", "-g", "-F", "499", "-o", perfOut]) { RedirectStandardError = true })!;
                Thread.Sleep(3000);
            }

            var cpu0 = CpuSeconds(pid);
            var registry0 = CpuSeconds(registry.Id);
            var self0 = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
            var seconds = ReadAll(Path.Combine(mnt, "big.bin"));
            colds.Add((seconds, CpuSeconds(pid) - cpu0, Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds - self0, CpuSeconds(registry.Id) - registry0));
            if (perf is not null)
            {
                Run("kill", "-INT", perf.Id.ToString());
                perf.WaitForExit();
            }

            Console.Error.WriteLine($"round {round}: curl {curls[^1]:F2} s, cold {colds[^1].Seconds:F2} s (daemon cpu {colds[^1].DaemonCpu:F2} s, reader cpu {colds[^1].ReaderCpu:F2} s, registry cpu {colds[^1].RegistryCpu:F2} s)");
            hashesMatch &= HashFile(Path.Combine(mnt, "big.bin")) == expectedHash;
            if (round == Rounds - 1)
            {
                // The ceiling: the same file once cached, page cache dropped: the kernel reads the cachefiles cache
                // file, the daemon is not involved.
                DropCaches();
                cachedSeconds = ReadAll(Path.Combine(mnt, "big.bin"));
                DropCaches();
                hashesMatch &= HashFile(Path.Combine(mnt, "big.bin")) == expectedHash;
            }

            rssAfter = Math.Max(rssAfter, Rss(pid));
        }

        StopMount(mount);
    }

    curls.Sort();
    var curlSeconds = curls[Rounds / 2];
    var curlMBs = blob.Size / 1e6 / curlSeconds;
    var cold = colds.OrderBy(c => c.Seconds).ElementAt(Rounds / 2);
    var coldSeconds = cold.Seconds;

    // Cold 4 KiB random reads on a fresh cache (new domain, so nothing is shared with the run above).
    var (mount2, _) = StartMount(reference, mnt, Path.Combine(scratch, "bench-cache-rand"), "rand");
    var latencies = RandomReads(Path.Combine(mnt, "big.bin"), data.Length, 200, 11);

    StopMount(mount2);
    latencies.Sort();
    var mb = data.Length / 1e6;
    Console.WriteLine($"| measurement | value |");
    Console.WriteLine($"|---|---:|");
    Console.WriteLine($"| file size | {FileMiB} MiB ({blob.Size / 1e6:F1} MB stored, zstd) |");
    Console.WriteLine($"| curl full blob download, median of {Rounds} | {curlMBs:F1} MB/s ({curlSeconds:F2} s; all: {string.Join(", ", curls.Select(c => c.ToString("F2")))} s) |");
    Console.WriteLine($"| cold sequential read through the lazy mount, median of {Rounds} | {mb / coldSeconds:F1} MB/s of file ({coldSeconds:F2} s; all: {string.Join(", ", colds.Select(c => c.Seconds.ToString("F2")))} s) |");
    Console.WriteLine($"| cold sequential / curl, file bytes per second | **{mb / coldSeconds / curlMBs:F2}x** |");
    Console.WriteLine($"| cold sequential / curl, stored bytes per second | **{blob.Size / 1e6 / coldSeconds / curlMBs:F2}x** |");
    Console.WriteLine($"| CPU during that cold read: daemon / reader process / docker-registry (of {Environment.ProcessorCount} x {coldSeconds:F2} s = {Environment.ProcessorCount * coldSeconds:F2} CPU-s) | {cold.DaemonCpu:F2} s / {cold.ReaderCpu:F2} s / {cold.RegistryCpu:F2} s |");
    Console.WriteLine($"| {budget} | |");
    Console.WriteLine($"| fully cached sequential read (page cache dropped) | {mb / cachedSeconds:F1} MB/s ({cachedSeconds:F2} s) |");
    Console.WriteLine($"| cold 4 KiB random read latency p50 / p99 (n={latencies.Count}) | {latencies[latencies.Count / 2]:F2} ms / {latencies[(int)(latencies.Count * 0.99)]:F2} ms |");
    Console.WriteLine($"| daemon (`snapshotter mount`) peak RSS during the sequential reads / after them | {peakRss / 1048576.0:F0} MiB / {rssAfter / 1048576.0:F0} MiB |");
    Console.WriteLine($"| content check | {(hashesMatch ? "sha256 matches (every round and the cached read)" : "MISMATCH")} |");
}

registry.Kill();
return 0;

// Single-thread cost of each step of the cold path, in this VM: where the time goes.
static async Task<string> CpuBudgetAsync(RegistryClient client, string reference, string digest, int port, string scratch)
{
    var blobPath = Path.Combine(scratch, "bench-blob");
    Run("curl", "-sf", "-o", blobPath, $"http://127.0.0.1:{port}/v2/bench/big/blobs/{digest}");
    using var blob = DataBlob.Open(blobPath, ChunkCompressor.Zstd, BenchTools.Digester);
    var stored = File.ReadAllBytes(blobPath);
    var chunk = new byte[1 << 20];
    var sw = Stopwatch.StartNew();
    foreach (var c in blob.Chunks)
    {
        ChunkCodec.TryDecompress(ChunkCompressor.Zstd, stored.AsSpan((int)c.CompressedOffset, (int)c.CompressedSize), chunk.AsSpan(0, (int)c.UncompressedSize));
    }

    var decompress = sw.Elapsed.TotalSeconds;
    sw.Restart();
    Span<byte> digestBytes = stackalloc byte[32];
    foreach (var c in blob.Chunks)
    {
        ChunkDigest.Compute(blob.Digester, chunk.AsSpan(0, (int)c.UncompressedSize), digestBytes);
    }

    var hash = sw.Elapsed.TotalSeconds;
    sw.Restart();
    var image = Snapshotter.Registry.ImageReference.Parse(reference);
    var loc = image.Blob(digest);
    var buffer = new byte[2 << 20];
    for (long off = 0; off < stored.Length; off += buffer.Length)
    {
        var n = (int)Math.Min(buffer.Length, stored.Length - off);
        await client.ReadAsync(loc, off, buffer.AsMemory(0, n));
    }

    var http = sw.Elapsed.TotalSeconds;
    var total = blob.Chunks.Sum(c => (long)c.UncompressedSize) / 1e6;
    var line = $"single thread, 256 MiB: zstd decompress {decompress:F2} s ({total / decompress:F0} MB/s), {ChunkDigest.Name(blob.Digester)} {hash:F2} s ({total / hash:F0} MB/s), " +
        $"2 MiB range reads of the {stored.Length / 1e6:F0} MB blob {http:F2} s ({stored.Length / 1e6 / http:F0} MB/s)";
    Console.Error.WriteLine(line);
    File.Delete(blobPath);
    return line;
}
