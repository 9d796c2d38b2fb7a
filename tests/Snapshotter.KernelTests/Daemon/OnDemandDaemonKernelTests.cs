using Snapshotter.Cachefiles.Daemon;
using Xunit.Abstractions;

namespace Snapshotter.KernelTests.Daemon;

/// <summary>
/// The daemon against the real on-demand kernel: EROFS over fscache mounted from a mkfs.erofs image whose bootstrap
/// and blob are served from local files through /dev/cachefiles.
/// </summary>
public sealed class OnDemandDaemonKernelTests(ITestOutputHelper output)
{
    private const string BlobTag = "blob1";

    private static string NewCacheDir() =>
        Directory.CreateDirectory(Path.Combine(KernelEnvironment.Scratch, "cache-" + Guid.NewGuid().ToString("N")[..8])).FullName;

    private static (TestObjectResolver Registry, List<IDisposable> Sources) Register(MkfsErofsImage image, string fsid, string? domain)
    {
        var boot = new LocalFileObjectSource(image.Bootstrap);
        var blob = new LocalFileObjectSource(image.Blob);
        var registry = new TestObjectResolver();
        registry.Register(fsid, domain, boot, new Dictionary<string, ICacheObjectSource> { [BlobTag] = blob });
        return (registry, [boot, blob]);
    }

    [Fact]
    public async Task Mount_MkfsErofsImage_EveryFileReadsBackIdentical()
    {
        KernelEnvironment.RequireOnDemandKernel();
        using var image = MkfsErofsImage.Create(BlobTag);
        var fsid = "img-" + Guid.NewGuid().ToString("N")[..8];
        var (registry, sources) = Register(image, fsid, "testdomain");
        var mnt = Directory.CreateTempSubdirectory("mnt").FullName;
        await using (var daemon = OnDemandDaemon.Start(new OnDemandDaemonOptions { CacheDirectory = NewCacheDir() }, registry, new TestOutputLogger(output)))
        {
            ErofsMounter.Mount(fsid, "testdomain", mnt);
            try
            {
                var files = Directory.EnumerateFiles(image.Source, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }).ToList();
                Assert.True(files.Count > 200);
                foreach (var file in files)
                {
                    var relative = Path.GetRelativePath(image.Source, file);
                    var mounted = Path.Combine(mnt, relative);
                    var info = new FileInfo(file);
                    if (info.LinkTarget is not null)
                    {
                        Assert.Equal(info.LinkTarget, new FileInfo(mounted).LinkTarget);
                        continue;
                    }

                    Assert.Equal(MkfsErofsImage.Sha256(file), MkfsErofsImage.Sha256(mounted));
                }

                Assert.True(daemon.OpenObjectCount >= 2, $"expected bootstrap + blob objects open, saw {daemon.OpenObjectCount}");
            }
            finally
            {
                ErofsMounter.Unmount(mnt);
            }
        }

        sources.ForEach(s => s.Dispose());
    }

    [Fact]
    public async Task Mount_ConcurrentRandomReaders_AllSeeSourceBytes()
    {
        KernelEnvironment.RequireOnDemandKernel();
        using var image = MkfsErofsImage.Create(BlobTag);
        var fsid = "conc-" + Guid.NewGuid().ToString("N")[..8];
        var (registry, sources) = Register(image, fsid, null);
        var mnt = Directory.CreateTempSubdirectory("mnt").FullName;
        var expected = await File.ReadAllBytesAsync(Path.Combine(image.Source, "big.bin"));
        await using (OnDemandDaemon.Start(new OnDemandDaemonOptions { CacheDirectory = NewCacheDir() }, registry, new TestOutputLogger(output)))
        {
            ErofsMounter.Mount(fsid, null, mnt);
            try
            {
                var readers = Enumerable.Range(0, 16).Select(seed => Task.Run(() =>
                {
                    var random = new Random(seed);
                    using var file = File.OpenHandle(Path.Combine(mnt, "big.bin"));
                    var buffer = new byte[70_000];
                    for (var i = 0; i < 40; i++)
                    {
                        var offset = random.NextInt64(0, expected.Length);
                        var want = (int)Math.Min(buffer.Length, expected.Length - offset);
                        var n = RandomAccess.Read(file, buffer.AsSpan(0, want), offset);
                        Assert.Equal(want, n);
                        Assert.True(expected.AsSpan((int)offset, n).SequenceEqual(buffer.AsSpan(0, n)), $"reader {seed} offset {offset}");
                    }
                })).ToArray();
                await Task.WhenAll(readers);
            }
            finally
            {
                ErofsMounter.Unmount(mnt);
            }
        }

        sources.ForEach(s => s.Dispose());
    }

    [Fact]
    public async Task Mount_UnknownFsid_IsRefusedAndDaemonKeepsServing()
    {
        KernelEnvironment.RequireOnDemandKernel();
        using var image = MkfsErofsImage.Create(BlobTag);
        var fsid = "known-" + Guid.NewGuid().ToString("N")[..8];
        var (registry, sources) = Register(image, fsid, null);
        var mnt = Directory.CreateTempSubdirectory("mnt").FullName;
        await using (OnDemandDaemon.Start(new OnDemandDaemonOptions { CacheDirectory = NewCacheDir() }, registry, new TestOutputLogger(output)))
        {
            var e = Assert.ThrowsAny<IOException>(() => ErofsMounter.Mount("not-registered", null, mnt));
            output.WriteLine($"unknown fsid: {e.Message}");

            ErofsMounter.Mount(fsid, null, mnt);
            try
            {
                Assert.Equal(
                    MkfsErofsImage.Sha256(Path.Combine(image.Source, "chunk-exact.bin")),
                    MkfsErofsImage.Sha256(Path.Combine(mnt, "chunk-exact.bin")));
            }
            finally
            {
                ErofsMounter.Unmount(mnt);
            }
        }

        sources.ForEach(s => s.Dispose());
    }

    [Fact]
    public async Task Start_SecondDaemon_FailsClearlyWhileFirstHoldsDevice()
    {
        KernelEnvironment.RequireOnDemandKernel();
        await using var first = OnDemandDaemon.Start(new OnDemandDaemonOptions { CacheDirectory = NewCacheDir() }, new TestObjectResolver(), new TestOutputLogger(output));

        var e = Assert.Throws<OnDemandUnsupportedException>(() =>
            OnDemandDaemon.Start(new OnDemandDaemonOptions { CacheDirectory = NewCacheDir(), BusyRetryTimeout = TimeSpan.FromSeconds(1) }, new TestObjectResolver(), new TestOutputLogger(output)));

        Assert.Contains("busy", e.Message);
    }

    [Fact]
    public async Task Start_CacheDirOnTmpfs_IsRefusedWithReason()
    {
        KernelEnvironment.RequireOnDemandKernel();
        var tmpfsDir = Directory.CreateTempSubdirectory("tmpfscache").FullName;
        Assert.Contains("tmpfs", KernelEnvironment.Run("stat", "-f", "-c", "%T", tmpfsDir));

        var e = Assert.Throws<OnDemandUnsupportedException>(() =>
            OnDemandDaemon.Start(new OnDemandDaemonOptions { CacheDirectory = tmpfsDir }, new TestObjectResolver(), new TestOutputLogger(output)));

        Assert.Contains("bind ondemand", e.Message);
        await Task.CompletedTask;
    }
}
