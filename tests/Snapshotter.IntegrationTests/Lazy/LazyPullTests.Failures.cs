using Grpc.Core;
using Snapshotter.IntegrationTests.Fixtures;

namespace Snapshotter.IntegrationTests.Lazy;

/// <summary>Registry outage, a corrupt bootstrap and a crashed service: clear errors, no half state, recovery.</summary>
public abstract partial class LazyPullTests
{
    /// <summary>Files a container reads to prove the lazy mount serves the right bytes (small, big, packed in shared chunks, the binary).</summary>
    protected static readonly string[] SampleFiles = [LazyTestImage.SmallFile, LazyTestImage.BigFile, "/many/d07/f042", "/many/d00/f000", "/bin/busybox"];

    [Fact]
    public async Task Pull_RegistryStopped_FailsClearlyLeavesNothingAndRetryAfterRestartSucceeds()
    {
        var ctr = NewCtr("outage");
        await Registry.StopAsync();
        ProcessResult failed;
        RpcException criFailed;
        try
        {
            failed = await RpullAsync(ctr, Images.LazyReference);
            criFailed = await Assert.ThrowsAsync<RpcException>(() => CriPullAsync(Images.LazyReference));
            await Fixture.CollectGarbageAsync();
        }
        finally
        {
            await Registry.StartAsync();
        }

        Assert.True(failed.ExitCode != 0, failed.ToString());
        Assert.Contains(Registry.Host, failed.StdErr, StringComparison.Ordinal);
        Assert.Contains("connection refused", failed.StdErr, StringComparison.Ordinal);
        Assert.Contains(Images.LazyReference, criFailed.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("connection refused", criFailed.Status.Detail, StringComparison.Ordinal);
        Output.WriteLine($"ctr-remote: {failed.StdErr.Trim()}\nCRI: {criFailed.Status}");

        // No half state: no snapshot, no image, nothing mounted, every snapshot directory owned.
        Assert.Empty(CtrOutput.Ls(await ctr.SnapshotsOkAsync(Snapshotter, "ls")));
        Assert.Empty(Lines(await ctr.RunAsync("images", "ls", "-q")));
        using (var cri = Lazy.Cri())
        {
            Assert.Null(await cri.StatusAsync(Images.LazyReference));
        }

        await AssertSnapshotDirectoriesMatchAsync();

        (await RpullAsync(ctr, Images.LazyReference)).EnsureSuccess();
        await AssertSamplesAsync(ctr, Images.LazyReference);
        await CriPullAsync(Images.LazyReference);
        await AssertSamplesAsync(CriCtr(), Images.LazyReference);
    }

    [Fact]
    public async Task Pull_CorruptBootstrap_FailsNamingTheImageAndLeavesNothing()
    {
        var ctr = NewCtr("corrupt");

        var failed = await RpullAsync(ctr, Images.CorruptReference);
        var criFailed = await Assert.ThrowsAsync<RpcException>(() => CriPullAsync(Images.CorruptReference));
        await Fixture.CollectGarbageAsync();

        Assert.True(failed.ExitCode != 0, failed.ToString());
        Output.WriteLine($"ctr-remote: {failed.StdErr.Trim()}\nCRI: {criFailed.Status}");
        foreach (string message in new[] { failed.StdErr, criFailed.Status.Detail })
        {
            Assert.Contains($"image {Images.CorruptReference}", message, StringComparison.Ordinal);
            Assert.Contains("invalid bootstrap", message, StringComparison.Ordinal);
        }

        Assert.False(Lazy.Snapshotter.HasExited, "serve exited");
        Assert.Empty(CtrOutput.Ls(await ctr.SnapshotsOkAsync(Snapshotter, "ls")));
        Assert.Empty(Lines(await ctr.RunAsync("images", "ls", "-q")));
        Assert.Empty(LazyMounts());
        await AssertSnapshotDirectoriesMatchAsync();
    }

    [Fact]
    public async Task Serve_Killed9WithALazyMountInUseThenRestarted_CleansStaleMountsAndNewContainerReadsCorrectly()
    {
        var ours = Lazy.Snapshotter;
        var ctr = NewCtr("kill9");
        (await RpullAsync(ctr, Images.LazyReference)).EnsureSuccess();
        string old = ContainerId();
        await StartSleeperAsync(ctr, Images.LazyReference, old);
        var before = Assert.Single(LazyMounts());
        int pid = ours.Pid;

        await ours.KillAsync();
        await Fixture.RestartSnapshotterAsync();

        Assert.NotEqual(pid, ours.Pid);
        var stale = Mounts.EntriesUnder(ours.Root);
        Assert.True(stale.Count == 0, $"stale mounts under {ours.Root} after the restart: {string.Join(", ", stale.Select(m => $"{m.FsType} {m.MountPoint}"))}");

        // A new container on the already pulled image: the image is mounted again by the new process.
        await AssertSamplesAsync(ctr, Images.LazyReference);
        await StartSleeperAsync(ctr, Images.LazyReference, ContainerId());
        var after = Assert.Single(LazyMounts());
        Assert.Equal(before.MountPoint, after.MountPoint);

        await RemoveAllAsync(ctr);
        await Fixture.CollectGarbageAsync();
        Assert.Empty(LazyMounts());
        await AssertSnapshotDirectoriesMatchAsync();
    }

    /// <summary>A container prints the sha256 of <see cref="SampleFiles"/>; each must match the source image.</summary>
    protected async Task AssertSamplesAsync(Ctr ctr, string reference)
    {
        var run = await RunAsync(ctr, reference, ["/bin/busybox", "sha256sum", .. SampleFiles]);
        Assert.True(run.ExitCode == 0, run.ToString());
        var seen = Lines(run).Select(l => l.Split("  ", 2)).ToDictionary(p => p[1], p => p[0], StringComparer.Ordinal);
        Assert.All(SampleFiles, f => Assert.Equal(Images.Expected.Files[f], seen[f]));
    }
}
