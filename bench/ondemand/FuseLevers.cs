using Snapshotter.Oci;
using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Snapshotter.Cache.Fetching;
using Snapshotter.Fuse;
using Snapshotter.Fuse.Protocol;
using Snapshotter.Lazy;
using Snapshotter.Registry;
using ImageReference = Snapshotter.Registry.ImageReference;
using static BenchTools;

/// <summary>
/// Settings of the fuse mode compared side by side on the same cold sequential read: the lazy-image component in this
/// process with each variant's internal options (LazyOptions.FuseServer, FuseErofsDirectIo, Fetch), a fresh cache
/// directory and mount per read, page cache dropped before it; rounds interleave the variants (rotated order) with
/// a curl of the blob. Counts the FUSE READs (average size) and the CPU of this process and of docker-registry.
/// BENCH_LEVERS=name,name picks variants; BENCH_LEVER_ROUNDS sets the rounds (default 5).
/// </summary>
internal static class FuseLevers
{
    private static readonly (string Name, string What, Func<string, LazyOptions> Options)[] All =
    [
        ("default", "as shipped: EROFS -o directio, FUSE_ASYNC_DIO", c => Options(c)),
        ("buffered", "EROFS reads the blob files through their page cache (FOPEN_KEEP_CACHE)", c => Options(c, directIo: false, server: new FuseServerOptions())),
        ("syncdio", "EROFS -o directio without FUSE_ASYNC_DIO (a caught signal fails the read: FuseSignalTests)", c => Options(c, server: new FuseServerOptions())),
        ("buffered-ra4m", "buffered, FUSE max_readahead (and bdi read_ahead_kb) 4 MiB", c => Options(c, directIo: false, server: new FuseServerOptions { MaxReadahead = 4 << 20 })),
        ("flat8m", "fetcher as before the adaptive stream requests: 8 MiB requests for every stream, 32 MiB window", c => Options(c, fetch: new ChunkFetcherOptions { MaxStreamRequestSize = 8 << 20, ReadaheadWindow = 32 << 20 })),
        ("fetch8x", "fetcher: 8 readaheads in flight, 64 MiB window, 8 MiB requests", c => Options(c, fetch: new ChunkFetcherOptions { MaxReadaheads = 8, ReadaheadWindow = 64 << 20, MaxStreamRequestSize = 8 << 20 })),
        ("fetch16m", "fetcher: 16 MiB requests for demand READs too, 64 MiB window", c => Options(c, fetch: new ChunkFetcherOptions { MaxRequestSize = 16 << 20, ReadaheadWindow = 64 << 20 })),
        ("noamplify", "fetcher: no amplification (READ-sized demand fetches)", c => Options(c, fetch: new ChunkFetcherOptions { AmplifyWindow = 0 })),
        ("noverify", "diagnostic, never shipped: chunk sha256 not verified (what verification costs)", c => Options(c, fetch: new ChunkFetcherOptions { VerifyDigests = false })),
    ];

    public static async Task<string> RunAsync(RegistryClient client, string reference, Descriptor blob, long fileBytes, int port, int registryPid, string scratch)
    {
        var rounds = int.Parse(Environment.GetEnvironmentVariable("BENCH_LEVER_ROUNDS") ?? "5", System.Globalization.CultureInfo.InvariantCulture);
        var picked = Environment.GetEnvironmentVariable("BENCH_LEVERS")?.Split(',', StringSplitOptions.RemoveEmptyEntries);
        var variants = All.Where(v => picked is null || picked.Contains(v.Name)).ToArray();
        var image = ImageReference.Parse(reference);
        var mnt = Directory.CreateDirectory(Path.Combine(scratch, "lever-mnt")).FullName;
        var results = variants.ToDictionary(v => v.Name, _ => new List<(double Seconds, double Cpu, double RegistryCpu, long Reads, long ReadBytes, long PageCache)>());
        var curls = new List<double>();

        // Warm-up, not counted: the first mount in this process pays the JIT of the whole path.
        var warmUp = await ReadOnceAsync(client, image, All[0].Options(FuseBenchmark.Fresh(scratch, "lever-cache")), mnt, registryPid);
        Console.Error.WriteLine($"lever warm-up (the first mount of this process, default): {warmUp.Seconds:F3} s, cpu {warmUp.Cpu:F2} s");
        for (var round = 0; round < rounds; round++)
        {
            var watch = Stopwatch.StartNew();
            Run("curl", "-sf", "-o", "/dev/null", $"http://127.0.0.1:{port}/v2/bench/big/blobs/{blob.Digest}");
            curls.Add(watch.Elapsed.TotalSeconds);
            for (var i = 0; i < variants.Length; i++)
            {
                var (name, _, options) = variants[(i + round) % variants.Length];
                var r = await ReadOnceAsync(client, image, options(FuseBenchmark.Fresh(scratch, "lever-cache")), mnt, registryPid);
                results[name].Add(r);
                Console.Error.WriteLine($"lever round {round} {name}: {r.Seconds:F3} s, cpu {r.Cpu:F2} s, registry {r.RegistryCpu:F2} s, {r.Reads} READs, page cache +{r.PageCache >> 20} MiB");
            }
        }

        var mb = fileBytes / 1e6;
        var curlMedian = FuseBenchmark.Median(curls);
        var text = new StringBuilder();
        text.AppendLine($"| variant, cold sequential read of {fileBytes >> 20} MiB (median of {rounds}, interleaved) | time | MB/s of file | / curl (file bytes/s over stored bytes/s) | CPU: this process (daemon + reader) / docker-registry | FUSE READs (avg KiB) | page cache added |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var (name, what, _) in variants)
        {
            var runs = results[name];
            var median = FuseBenchmark.Median(runs.Select(r => r.Seconds));
            var reads = (long)FuseBenchmark.Median(runs.Select(r => (double)r.Reads));
            var bytes = FuseBenchmark.Median(runs.Select(r => (double)r.ReadBytes));
            text.AppendLine($"| `{name}`: {what} | {median:F3} s (all: {FuseBenchmark.Join(runs.Select(r => r.Seconds))}) | {mb / median:F0} | {mb / median / (blob.Size / 1e6 / curlMedian):F2}x | " +
                $"{FuseBenchmark.Median(runs.Select(r => r.Cpu)):F2} s / {FuseBenchmark.Median(runs.Select(r => r.RegistryCpu)):F2} s | {reads} ({(reads == 0 ? 0 : bytes / reads / 1024):F0}) | {FuseBenchmark.Median(runs.Select(r => (double)r.PageCache)) / 1048576:F0} MiB |");
        }

        text.AppendLine($"| curl of the blob (same rounds) | {curlMedian:F3} s (all: {FuseBenchmark.Join(curls)}) | {blob.Size / 1e6 / curlMedian:F0} stored | 1 | | | |");
        var cachedVariants = Environment.GetEnvironmentVariable("BENCH_LEVER_CACHED") ?? "default,buffered";
        if (cachedVariants.Length > 0)
        {
            text.AppendLine();
            text.AppendLine(await CachedAsync(client, image, [.. All.Where(v => cachedVariants.Split(',').Contains(v.Name))], fileBytes, mnt, scratch, rounds));
        }

        return text.ToString();
    }

    /// <summary>
    /// What a variant does once data is cached, interleaved: the file read after the cold read with the page cache
    /// dropped (READs answered from the sparse cache file), the same after an unmount and a new mount of the image
    /// without dropping anything (what KEEP_CACHE keeps), and cold 4 KiB random reads through a fresh mount.
    /// </summary>
    private static async Task<string> CachedAsync(
        RegistryClient client, ImageReference image, (string Name, string What, Func<string, LazyOptions> Options)[] variants, long fileBytes, string mnt, string scratch, int rounds)
    {
        var file = Path.Combine(mnt, "big.bin");
        var results = variants.ToDictionary(v => v.Name, _ => (Cached: new List<double>(), Remount: new List<double>(), RemountReads: new List<double>(), Random: new List<double>()));
        for (var round = 0; round < rounds; round++)
        {
            for (var i = 0; i < variants.Length; i++)
            {
                var (name, _, options) = variants[(i + round) % variants.Length];
                var r = results[name];
                await using (var lazy = await LazyFileSystem.CreateAsync(options(FuseBenchmark.Fresh(scratch, "lever-cache")), client, NullLoggerFactory.Instance))
                {
                    var remote = await lazy.ResolveImageAsync(image);
                    await lazy.MountAsync(remote, mnt);
                    ReadAll(file);
                    DropCaches();
                    r.Cached.Add(ReadAll(file));
                    await lazy.UnmountAsync(mnt);
                    await lazy.MountAsync(remote, mnt);
                    var reads = lazy.FuseStatistics!.Requests(FuseOpcode.Read);
                    r.Remount.Add(ReadAll(file));
                    r.RemountReads.Add(lazy.FuseStatistics.Requests(FuseOpcode.Read) - reads);
                    await lazy.UnmountAsync(mnt);
                }

                await using (var lazy = await LazyFileSystem.CreateAsync(options(FuseBenchmark.Fresh(scratch, "lever-cache")), client, NullLoggerFactory.Instance))
                {
                    await lazy.MountAsync(await lazy.ResolveImageAsync(image), mnt);
                    DropCaches();
                    r.Random.AddRange(RandomReads(file, fileBytes, 200, 31 + round));
                    await lazy.UnmountAsync(mnt);
                }

                Console.Error.WriteLine($"cached round {round} {name}: cached {r.Cached[^1]:F3} s, re-mount {r.Remount[^1]:F3} s ({r.RemountReads[^1]} READs)");
            }
        }

        var mb = fileBytes / 1e6;
        var text = new StringBuilder();
        text.AppendLine($"| variant (median of {rounds}, interleaved) | cached, page cache dropped | re-mount, nothing dropped (FUSE READs) | cold 4 KiB random p50 / p99 (n={200 * rounds}) |");
        text.AppendLine("|---|---:|---:|---:|");
        foreach (var (name, what, _) in variants)
        {
            var r = results[name];
            r.Random.Sort();
            text.AppendLine($"| `{name}` | {mb / FuseBenchmark.Median(r.Cached):F0} MB/s (all: {FuseBenchmark.Join(r.Cached)} s) | {mb / FuseBenchmark.Median(r.Remount):F0} MB/s ({FuseBenchmark.Median(r.RemountReads):F0}) | " +
                $"{FuseBenchmark.Percentile(r.Random, 0.50):F2} ms / {FuseBenchmark.Percentile(r.Random, 0.99):F2} ms |");
        }

        return text.ToString();
    }

    private static LazyOptions Options(string cache, bool directIo = true, FuseServerOptions? server = null, ChunkFetcherOptions? fetch = null) => new()
    {
        Mode = LazyMode.Fuse,
        CacheDirectory = cache,
        DomainId = "levers",
        FallBackWhenUnavailable = false,
        FuseErofsDirectIo = directIo,
        FuseServer = server ?? new FuseServerOptions { AsyncDirectIo = true },
        Fetch = fetch ?? new ChunkFetcherOptions(),
    };

    private static async Task<(double Seconds, double Cpu, double RegistryCpu, long Reads, long ReadBytes, long PageCache)> ReadOnceAsync(
        RegistryClient client, ImageReference image, LazyOptions options, string mnt, int registryPid)
    {
        await using var lazy = await LazyFileSystem.CreateAsync(options, client, NullLoggerFactory.Instance);
        var remote = await lazy.ResolveImageAsync(image);
        await lazy.MountAsync(remote, mnt);
        try
        {
            DropCaches();
            var statistics = lazy.FuseStatistics!;
            var reads0 = statistics.Requests(FuseOpcode.Read);
            var bytes0 = statistics.ReadBytes;
            var self = Process.GetCurrentProcess();
            var cpu0 = self.TotalProcessorTime.TotalSeconds;
            var registry0 = CpuSeconds(registryPid);
            var cache0 = PageCacheBytes();
            var seconds = ReadAll(Path.Combine(mnt, "big.bin"));
            var cache1 = PageCacheBytes();
            self.Refresh();
            return (seconds, self.TotalProcessorTime.TotalSeconds - cpu0, CpuSeconds(registryPid) - registry0,
                statistics.Requests(FuseOpcode.Read) - reads0, statistics.ReadBytes - bytes0, cache1 - cache0);
        }
        finally
        {
            await lazy.UnmountAsync(mnt);
        }
    }
}
