using System.Diagnostics;
using Snapshotter.IntegrationTests.Fixtures;

namespace Snapshotter.KernelTests.Containerd;

/// <summary>What image removal leaves behind, and a crashed service.</summary>
public sealed partial class FscacheLazyPullTests
{
    [Fact]
    public async Task RemoveImage_CtrAndCriThenGcAndCleanup_LeaveNoMountNoFscacheVolumeNoDirectory()
    {
        await RemoveEverythingAsync();
        var ctr = NewCtr("remove");
        (await RpullAsync(ctr, Image.Reference)).EnsureSuccess();
        await CriPullAsync(Image.Reference);
        string holder = ContainerId();
        await StartSleeperAsync(CriCtr(), Image.Reference, holder);
        var (script, expected) = Image.ReadScript('a', 30_000);
        var run = await RunAsync(ctr, Image.Reference, script);
        Assert.True(run.ExitCode == 0 && run.StdOut == expected, $"expected:\n{expected}\n{run}");

        // Each namespace's snapshot chain gets its own mount of the image; both are in the service's one domain.
        Assert.NotEmpty(LazyMounts());
        Assert.True(FscacheProc.Volumes(FscacheProc.ServiceVolume).Count == 1, FscacheProc.Describe());

        int logMark = Lazy.Snapshotter.LogLineCount;
        await RemoveContainerAsync(CriCtr(), holder);
        (await ctr.RunAsync("images", "rm", "--sync", Image.Reference)).EnsureSuccess();
        using (var cri = Lazy.Cri())
        {
            await cri.RemoveAsync(Image.Reference);
            Assert.Null(await cri.StatusAsync(Image.Reference));
        }

        await Fixture.CollectGarbageAsync();

        // containerd's collector removed the snapshots and called Cleanup on the proxy plugin.
        string logs = Lazy.Snapshotter.Logs(logMark);
        Assert.Contains("Snapshots/Cleanup answered OK", logs, StringComparison.Ordinal);
        Assert.Empty(CtrOutput.Ls(await ctr.SnapshotsOkAsync(Snapshotter, "ls")));
        Assert.Empty(CtrOutput.Ls(await CriCtr().SnapshotsOkAsync(Snapshotter, "ls")));
        var mounted = Mounts.EntriesUnder(Lazy.Snapshotter.Root).Concat(Mounts.EntriesUnder(Lazy.CacheDirectory)).ToList();
        Assert.True(mounted.Count == 0, $"still mounted: {string.Join(", ", mounted.Select(m => $"{m.FsType} {m.MountPoint}"))}");
        Assert.Empty(MountDirectories());

        // The kernel let go of the domain's volume: no cookie of a bootstrap or blob is registered any more.
        Assert.True(FscacheProc.Volumes(FscacheProc.ServiceVolume).Count == 0, $"cachefiles still has the service's volume:\n{FscacheProc.Describe()}");
        await AssertSnapshotDirectoriesMatchAsync();
        Output.WriteLine($"left in the cache directory (cache data, not registrations): {string.Join(", ", Directory.EnumerateFileSystemEntries(Lazy.CacheDirectory).Select(Path.GetFileName))}");
    }

    [Fact]
    public async Task Serve_Killed9WithALazyMountInUseThenRestarted_NewContainerStartsAndReadsLazily()
    {
        var ours = Lazy.Snapshotter;
        var ctr = NewCtr("kill9");
        (await RpullAsync(ctr, Image.Reference)).EnsureSuccess();
        await StartSleeperAsync(ctr, Image.Reference, ContainerId());
        var before = Assert.Single(LazyMounts());
        int pid = ours.Pid;

        var clock = Stopwatch.StartNew();
        await ours.KillAsync();
        Output.WriteLine($"kill -9: the process was reaped after {clock.Elapsed.TotalSeconds:F1} s");
        await Fixture.RestartSnapshotterAsync();
        Output.WriteLine($"kill -9 and restart: containerd reached the new service after {clock.Elapsed.TotalSeconds:F1} s");

        Assert.NotEqual(pid, ours.Pid);
        var stale = Mounts.EntriesUnder(ours.Root);
        Assert.True(stale.Count == 0, $"stale mounts under {ours.Root} after the restart: {string.Join(", ", stale.Select(m => $"{m.FsType} {m.MountPoint}"))}");

        // The old container still holds the detached superblock, and with it the domain's volume and blob cookies of the
        // dead session: the new process must mount in a fresh domain, or its reads of those blobs would get EIO.
        Assert.True(FscacheProc.Volumes(FscacheProc.ServiceVolume).Count == 1, FscacheProc.Describe());

        // A new container on the already pulled image: mounted again by the new process, over fscache, lazily.
        int mark = Registry.Mark();
        int logMark = ours.LogLineCount;
        var (script, expected) = Image.ReadScript('b', 45_000);
        var run = await RunAsync(ctr, Image.Reference, script);
        Assert.True(run.ExitCode == 0 && run.StdOut == expected, $"expected:\n{expected}\n{run}");
        string logs = ours.Logs(logMark);
        Assert.Contains("(fscache, ", logs, StringComparison.Ordinal);
        Assert.Contains("Snapshotter.Lazy[6011] EROFS domain lazysnap is still held", logs, StringComparison.Ordinal);
        Assert.DoesNotContain("Snapshotter.Lazy[6002]", logs, StringComparison.Ordinal);
        var served = await SettledServeBytesAsync(mark, Image.DataBlobs);
        Output.WriteLine($"after the restart the registry served {served.Values.Sum()} of {Image.DataBlobs.Sum(b => b.Size)} data blob bytes");
        Assert.True(served.Values.Sum() < MaxServedShare * Image.DataBlobs.Sum(b => b.Size), "the remount after the restart is not lazy");

        await StartSleeperAsync(ctr, Image.Reference, ContainerId());
        var after = Assert.Single(LazyMounts());
        Assert.Equal(before.MountPoint, after.MountPoint);
        Assert.Contains("fsid=", after.SuperOptions, StringComparison.Ordinal);
        Assert.Matches("domain_id=lazysnap-[0-9a-f]{8}", after.SuperOptions);

        // Once the old container is gone the stale superblock is freed: no volume of either domain is left.
        await RemoveAllAsync(ctr);
        await Fixture.CollectGarbageAsync();
        Assert.Empty(LazyMounts());
        Assert.True(!File.ReadAllText(FscacheProc.VolumesFile).Contains("erofs,lazysnap", StringComparison.Ordinal), FscacheProc.Describe());
        await AssertSnapshotDirectoriesMatchAsync();
    }
}
