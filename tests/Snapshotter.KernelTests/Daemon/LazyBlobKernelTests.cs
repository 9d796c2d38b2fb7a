using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Snapshotter.Cache.Fetching;
using Snapshotter.Telemetry;
using Snapshotter.Cachefiles.Daemon;
using Xunit.Abstractions;

namespace Snapshotter.KernelTests.Daemon;

/// <summary>
/// The READ path end to end on the real kernel: the data blob is served through <see cref="BlobChunkFetcher"/>
/// (chunk mapping, single-flight, merging, amplification, digest checks) from a reader standing in for the registry.
/// </summary>
public sealed class LazyBlobKernelTests(ITestOutputHelper output)
{
    private const string BlobTag = "lazyblob";
    private const int ChunkSize = 65536;

    private sealed class Unused : IChunkDecompressor
    {
        public int Decompress(ReadOnlySpan<byte> source, Span<byte> destination) =>
            throw new InvalidDataException("raw blob chunks are not compressed");
    }

    private sealed record Setup(MkfsErofsImage Image, ToggleReader Reader, BlobChunkFetcher Fetcher, SnapshotterMetrics Metrics, TestObjectResolver Registry, LocalFileObjectSource Boot, FileBlobRangeReader File);

    private static Setup Create(string fsid, string? domain, ChunkFetcherOptions options, MkfsErofsImage? image = null, TestObjectResolver? registry = null, BlobObjectSource? shared = null)
    {
        image ??= MkfsErofsImage.Create(BlobTag, ChunkSize);
        var file = new FileBlobRangeReader(image.Blob);
        var reader = new ToggleReader(file);
        var metrics = new SnapshotterMetrics();
        var fetcher = shared?.Fetcher ?? new BlobChunkFetcher(RawBlobChunks.Build(image.Blob, ChunkSize), reader, new Unused(), options, metrics, NullLogger.Instance);
        var boot = new LocalFileObjectSource(image.Bootstrap);
        registry ??= new TestObjectResolver();
        registry.Register(fsid, domain, boot, new Dictionary<string, ICacheObjectSource> { [BlobTag] = shared ?? new BlobObjectSource(fetcher) });
        return new Setup(image, reader, fetcher, metrics, registry, boot, file);
    }

    private static string NewCacheDir() =>
        Directory.CreateDirectory(Path.Combine(KernelEnvironment.Scratch, "cache-" + Guid.NewGuid().ToString("N")[..8])).FullName;

    private static string Fsid(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Mount_LazyBlob_EveryFileIdenticalAndEachChunkFetchedOnce()
    {
        KernelEnvironment.RequireOnDemandKernel();
        var fsid = Fsid("lazy");
        var setup = Create(fsid, null, new ChunkFetcherOptions { AmplifyWindow = 256 * 1024 });
        using var image = setup.Image;
        var mnt = Directory.CreateTempSubdirectory("mnt").FullName;
        await using (OnDemandDaemon.Start(new OnDemandDaemonOptions { CacheDirectory = NewCacheDir() }, setup.Registry, new TestOutputLogger(output), setup.Metrics))
        {
            ErofsMounter.Mount(fsid, null, mnt);
            try
            {
                var files = Directory.EnumerateFiles(image.Source, "*", SearchOption.AllDirectories).ToList();
                await Parallel.ForEachAsync(files, new ParallelOptions { MaxDegreeOfParallelism = 8 }, (file, _) =>
                {
                    var mounted = Path.Combine(mnt, Path.GetRelativePath(image.Source, file));
                    if (new FileInfo(file).LinkTarget is null)
                    {
                        Assert.Equal(MkfsErofsImage.Sha256(file), MkfsErofsImage.Sha256(mounted));
                    }

                    return ValueTask.CompletedTask;
                });
            }
            finally
            {
                ErofsMounter.Unmount(mnt);
            }
        }

        var served = setup.Reader.Served.OrderBy(r => r.Offset).ToList();
        for (var i = 1; i < served.Count; i++)
        {
            Assert.True(served[i - 1].Offset + served[i - 1].Length <= served[i].Offset, $"range at {served[i].Offset} fetched twice");
        }

        Assert.Equal(setup.File.Length, served.Sum(r => (long)r.Length));
        Assert.Equal(0, setup.Metrics.DigestFailureCount);
        output.WriteLine($"READs {setup.Metrics.ReadRequestCount}, registry requests {setup.Metrics.RegistryRequestCount}, fetched {setup.Metrics.FetchedByteCount}");
        setup.Boot.Dispose();
        setup.File.Dispose();
    }

    [Fact]
    public async Task Mount_SmallFileRead_FetchesAboutTheAmplificationWindow()
    {
        KernelEnvironment.RequireOnDemandKernel();
        var fsid = Fsid("small");
        const int window = 128 * 1024;
        var setup = Create(fsid, null, new ChunkFetcherOptions { AmplifyWindow = window });
        using var image = setup.Image;
        var mnt = Directory.CreateTempSubdirectory("mnt").FullName;
        await using (OnDemandDaemon.Start(new OnDemandDaemonOptions { CacheDirectory = NewCacheDir() }, setup.Registry, new TestOutputLogger(output), setup.Metrics))
        {
            ErofsMounter.Mount(fsid, null, mnt);
            try
            {
                var relative = Path.Combine("dir", "nested", "small-007.txt");
                Assert.Equal(
                    await File.ReadAllBytesAsync(Path.Combine(image.Source, relative)),
                    await File.ReadAllBytesAsync(Path.Combine(mnt, relative)));
            }
            finally
            {
                ErofsMounter.Unmount(mnt);
            }
        }

        output.WriteLine($"blob {setup.File.Length} bytes; fetched {setup.Metrics.FetchedByteCount} in {setup.Metrics.RegistryRequestCount} requests");
        Assert.InRange(setup.Metrics.FetchedByteCount, 1, window + ChunkSize);
        Assert.True(setup.Metrics.FetchedByteCount * 10 < setup.File.Length, "a small file read fetched a large part of the blob");
        setup.Boot.Dispose();
        setup.File.Dispose();
    }

    [Fact]
    public async Task Mount_RegistryDownMidRead_ReaderGetsEioAndLaterReadsSucceed()
    {
        KernelEnvironment.RequireOnDemandKernel();
        var fsid = Fsid("down");
        var setup = Create(fsid, null, new ChunkFetcherOptions { AmplifyWindow = 0 });
        using var image = setup.Image;
        var mnt = Directory.CreateTempSubdirectory("mnt").FullName;
        await using (OnDemandDaemon.Start(new OnDemandDaemonOptions { CacheDirectory = NewCacheDir() }, setup.Registry, new TestOutputLogger(output), setup.Metrics))
        {
            ErofsMounter.Mount(fsid, null, mnt);
            try
            {
                var big = Path.Combine(mnt, "big.bin");
                var expected = await File.ReadAllBytesAsync(Path.Combine(image.Source, "big.bin"));
                using (var handle = File.OpenHandle(big))
                {
                    var first = new byte[4096];
                    Assert.Equal(4096, RandomAccess.Read(handle, first, 0));
                    Assert.True(expected.AsSpan(0, 4096).SequenceEqual(first));

                    setup.Reader.Down = true;
                    var watch = Stopwatch.StartNew();
                    var e = Assert.ThrowsAny<IOException>(() => RandomAccess.Read(handle, new byte[4096], 3L * 1024 * 1024));
                    output.WriteLine($"read while down failed after {watch.ElapsedMilliseconds} ms: {e.Message}");
                    Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), "the reader waited too long for EIO");

                    setup.Reader.Down = false;
                    var again = new byte[4096];
                    Assert.Equal(4096, RandomAccess.Read(handle, again, 3L * 1024 * 1024));
                    Assert.True(expected.AsSpan(3 * 1024 * 1024, 4096).SequenceEqual(again));
                }

                Assert.True(setup.Metrics.ReadFailureCount >= 1);
            }
            finally
            {
                ErofsMounter.Unmount(mnt);
            }
        }

        setup.Boot.Dispose();
        setup.File.Dispose();
    }

    [Fact]
    public async Task Mount_SameBlobThroughTwoMountsInOneDomain_OneFetchPerChunk()
    {
        KernelEnvironment.RequireOnDemandKernel();
        const string domain = "shared-domain";
        var firstFsid = Fsid("a");
        var first = Create(firstFsid, domain, new ChunkFetcherOptions { AmplifyWindow = 0 });
        using var image = first.Image;
        var shared = (BlobObjectSource)(await first.Registry.ResolveAsync($"erofs,{domain}", BlobTag))!;
        var secondFsid = Fsid("b");
        var secondBoot = new LocalFileObjectSource(image.Bootstrap);
        first.Registry.Register(secondFsid, domain, secondBoot, new Dictionary<string, ICacheObjectSource> { [BlobTag] = shared });
        Assert.Equal(2, first.Registry.ImageCount);
        var mntA = Directory.CreateTempSubdirectory("mnta").FullName;
        var mntB = Directory.CreateTempSubdirectory("mntb").FullName;
        var expected = MkfsErofsImage.Sha256(Path.Combine(image.Source, "big.bin"));
        await using (OnDemandDaemon.Start(new OnDemandDaemonOptions { CacheDirectory = NewCacheDir() }, first.Registry, new TestOutputLogger(output), first.Metrics))
        {
            ErofsMounter.Mount(firstFsid, domain, mntA);
            ErofsMounter.Mount(secondFsid, domain, mntB);
            try
            {
                var hashes = await Task.WhenAll(
                    Task.Run(() => MkfsErofsImage.Sha256(Path.Combine(mntA, "big.bin"))),
                    Task.Run(() => MkfsErofsImage.Sha256(Path.Combine(mntB, "big.bin"))));
                Assert.All(hashes, h => Assert.Equal(expected, h));
            }
            finally
            {
                ErofsMounter.Unmount(mntA);
                ErofsMounter.Unmount(mntB);
            }
        }

        var served = first.Reader.Served.Select(r => r.Offset).ToList();
        Assert.Equal(served.Count, served.Distinct().Count());
        output.WriteLine($"{served.Count} range requests for two mounts");
        first.Boot.Dispose();
        secondBoot.Dispose();
        first.File.Dispose();
    }
}
