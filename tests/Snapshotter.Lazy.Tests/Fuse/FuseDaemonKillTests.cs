using Snapshotter.Lazy.Tests.Infrastructure;
using Snapshotter.Registry.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Snapshotter.Lazy.Tests.Fuse;

/// <summary>
/// The daemon dies (SIGKILL) while an image is mounted in fuse mode: its mount reports an error at once instead of
/// hanging, and the next daemon on the same cache directory detaches the dead FUSE mount at start and serves again.
/// The daemon is the real <c>snapshotter mount</c> executable in a child process.
/// </summary>
[Collection(FuseRegistryCollection.Name)]
public sealed class FuseDaemonKillTests(FuseRegistryFixture fixture, ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _root = new("lazy-tests-fuse-kill");

    public void Dispose()
    {
        HostMounts.DetachUnder(_root.Path);
        _root.Dispose();
    }

    [Fact]
    public async Task Kill_MountProcess_ReadsFailPromptlyAndTheNextDaemonCleansTheStaleMountAndServes()
    {
        var cache = _root.Combine("cache");
        var fuseMount = Path.Combine(cache, "fuse");
        var first = Directory.CreateDirectory(_root.Combine("first")).FullName;
        var second = Directory.CreateDirectory(_root.Combine("second")).FullName;
        var big = fixture.Image.Files[LazyTestImage.BigFile];

        await using (var daemon = await MountProcess.StartAsync(fixture.Reference, first, cache))
        {
            Assert.Equal(TreeAssert.Sha(fixture.Image.Files["small/f0010.txt"]), TreeAssert.ShaOfFile(Path.Combine(first, "small/f0010.txt")));
            Assert.Equal(["fuse.lazysnap"], HostMounts.TypesAt(fuseMount));
            output.WriteLine(daemon.Log);

            await daemon.KillAsync();
        }

        // Data never read before: the kernel has to ask the dead server.
        var probe = await ReadProbe.ReadAsync(Path.Combine(first, LazyTestImage.BigFile), big.Length - (1024 * 1024), 4096, TimeSpan.FromSeconds(30));
        Assert.True(probe.Errno is ReadProbe.EIO or ReadProbe.ENOTCONN, $"a read of the dead daemon's mount gave errno {probe.Errno}, expected EIO or ENOTCONN");
        Assert.True(probe.Elapsed < TimeSpan.FromSeconds(5), $"the error took {probe.Elapsed.TotalSeconds:F1} s");
        var (statfs, _, statfsError) = HostTool.TryRun("stat", "--file-system", fuseMount);
        Assert.True(statfs != 0 && statfsError.Contains("Transport endpoint is not connected", StringComparison.Ordinal), $"stat -f of the dead FUSE mount: exit {statfs}, {statfsError}");

        await using (var daemon = await MountProcess.StartAsync(fixture.Reference, second, cache))
        {
            output.WriteLine(daemon.Log);
            Assert.Contains($"stale FUSE mount {fuseMount}", daemon.Log, StringComparison.Ordinal);
            Assert.Equal(["fuse.lazysnap"], HostMounts.TypesAt(fuseMount));
            Assert.Equal(0, HostTool.TryRun("stat", "--file-system", fuseMount).ExitCode);
            TreeAssert.Matches(fixture.Image, second);

            Assert.Equal(0, await daemon.StopAsync());
        }

        Assert.False(HostMounts.IsMounted(second), "SIGTERM must unmount the image");
        Assert.False(HostMounts.IsMounted(fuseMount), "SIGTERM must unmount the blob files");
    }
}
