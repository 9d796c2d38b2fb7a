using System.Diagnostics;
using Xunit.Abstractions;

namespace Snapshotter.KernelTests.Containerd;

/// <summary>
/// Issue acceptance, VM tier: real containerd 1.6 + runc + docker-registry + our <c>snapshotter serve</c> in fscache mode,
/// all inside the on-demand guest. A converted image with a ~200 MiB data layer is pulled lazily through both pull paths
/// (<c>ctr-remote images rpull</c> and CRI <c>PullImage</c>); containers reading a few small files print the right output
/// while the registry (its own access log) serves well under 20% of the data blob.
/// </summary>
[Collection(ContainerdCollection.Name)]
public sealed class ContainerdLazyPullTests(LazyVmImages images, FscacheContainerdFixture stacks, ITestOutputHelper output) : IClassFixture<FscacheContainerdFixture>
{
    private static readonly TimeSpan PullTimeout = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(5);

    private LazyVmImage Image => images.Big;

    [Fact]
    public async Task Rpull_ImageWith200MiBLayer_ContainerPrintsFilesAndRegistryServesUnderFifthOfDataBlob()
    {
        var stack = await stacks.GetAsync(images);
        var ns = stack.NewNamespace("rpull");
        var mark = stack.Mark();
        var pull = Stopwatch.StartNew();
        var pulled = await stack.Containerd.RpullAsync(ns, Image.Reference, PullTimeout);
        Assert.True(pulled.ExitCode == 0, $"{pulled}\n{stack.LogsSince(mark)}");
        await AssertRunsLazilyAsync(stack, ns, 'a', mark, pull);
        await AssertImageRemovalCleansUpAsync(stack, ns, mark);
    }

    [Fact]
    public async Task CriPullImage_ImageWith200MiBLayer_ContainerPrintsFilesAndRegistryServesUnderFifthOfDataBlob()
    {
        var stack = await stacks.GetAsync(images);
        const string ns = GuestContainerd.CriNamespace;
        var mark = stack.Mark();
        var pull = Stopwatch.StartNew();
        using var cri = new CriClient(stack.Containerd.Address);
        var imageId = await cri.PullAsync(Image.Reference, PullTimeout);
        output.WriteLine($"CRI PullImage answered {imageId} after {pull.Elapsed.TotalSeconds:0.0} s");
        Assert.StartsWith("sha256:", imageId, StringComparison.Ordinal);

        // The CRI labels (cri.image-ref, cri.layer-digest) reached the service: no layer fell back to the ordinary unpack.
        Assert.DoesNotContain(stack.Serve.Lines(mark.Serve), l => l.Contains("[2011]", StringComparison.Ordinal));
        await AssertRunsLazilyAsync(stack, ns, 'b', mark, pull);

        await cri.RemoveAsync(Image.Reference, TimeSpan.FromMinutes(2));
        await AssertImageRemovalCleansUpAsync(stack, ns, mark);
    }

    [Fact]
    public async Task RunDetached_TwoContainersOfOneLazyImage_ShareOneLazyMountUntilTheLastIsRemoved()
    {
        var stack = await stacks.GetAsync(images);
        var ns = stack.NewNamespace("shared");
        var mark = stack.Mark();
        (await stack.Containerd.RpullAsync(ns, Image.Reference, PullTimeout)).EnsureSuccess();
        const string hold = "cat /data/small/a00.txt > /dev/null && exec sleep 3600";
        string[] ids = ["shared-1", "shared-2"];
        try
        {
            foreach (var id in ids)
            {
                var started = await stack.Containerd.RunDetachedAsync(ns, Image.Reference, id, hold, RunTimeout);
                Assert.True(started.ExitCode == 0, $"{started}\n{stack.LogsSince(mark)}");
            }

            var lazy = Assert.Single(stack.LazyMounts());
            output.WriteLine($"lazy mount: {lazy}");
            Assert.Contains("fsid=", lazy.SuperOptions, StringComparison.Ordinal);

            // Both containers' rootfs overlays stand on that one mount, made once.
            var rootfs = MountInfo.Under(stack.Containerd.StateDir).Where(m => m.FsType == "overlay").ToList();
            Assert.Equal(2, rootfs.Count(m => m.SuperOptions.Contains(lazy.MountPoint, StringComparison.Ordinal)));
            Assert.Single(stack.Serve.Lines(mark.Serve), l => l.Contains("[2012]", StringComparison.Ordinal));

            await stack.Containerd.RemoveContainerAsync(ns, ids[0]);
            Assert.Equal(lazy.MountPoint, Assert.Single(stack.LazyMounts()).MountPoint);
        }
        finally
        {
            foreach (var id in ids)
            {
                await stack.Containerd.RemoveContainerAsync(ns, id);
            }
        }

        Assert.Empty(stack.LazyMounts());
        await AssertImageRemovalCleansUpAsync(stack, ns, mark);
    }

    [Fact]
    public async Task KillNine_ServeWhileALazyContainerRuns_RestartedServeStartsNewContainerOnTheImage()
    {
        var stack = await stacks.GetAsync(images);
        var ns = stack.NewNamespace("restart");
        var mark = stack.Mark();
        (await stack.Containerd.RpullAsync(ns, Image.Reference, PullTimeout)).EnsureSuccess();
        const string old = "restart-old";
        try
        {
            (await stack.Containerd.RunDetachedAsync(ns, Image.Reference, old, "cat /data/small/a01.txt > /dev/null && exec sleep 3600", RunTimeout)).EnsureSuccess();
            var before = Assert.Single(stack.LazyMounts());

            var restart = Stopwatch.StartNew();
            await stack.KillAndRestartServeAsync();
            output.WriteLine($"kill -9 and restart: containerd reached the new service after {restart.Elapsed.TotalSeconds:0.0} s");
            var restarted = stack.Serve.Lines(mark.Serve).SkipWhile(l => !l.Contains("---- restarting ----", StringComparison.Ordinal)).ToList();
            Assert.True(
                restarted.Any(l => l.Contains("[6005]", StringComparison.Ordinal) && l.Contains(before.MountPoint, StringComparison.Ordinal)),
                $"the restarted service did not detach the stale mount {before.MountPoint}:\n{string.Join('\n', restarted)}");

            var afterRestart = stack.Mark();
            var (script, expected) = Image.ReadScript('b');
            var run = await stack.Containerd.RunAsync(ns, Image.Reference, "restart-new", script, RunTimeout);
            Assert.True(run.ExitCode == 0 && run.StdOut == expected, $"expected:\n{expected}\n{run}\n{stack.LogsSince(mark)}");

            // Mounted again by the new process, lazily in fscache mode: no fallback to downloading the blobs ([6002]).
            var newLines = stack.Serve.Lines(afterRestart.Serve);
            Assert.Contains(newLines, l => l.Contains("[2012]", StringComparison.Ordinal));
            Assert.True(
                !newLines.Any(l => l.Contains("[6002]", StringComparison.Ordinal)),
                $"the remount after the restart fell back from fscache:\n{string.Join('\n', newLines)}");
            var served = await stack.SettledBlobBytesAsync(afterRestart.Registry, Image.DataBlob.Digest);
            output.WriteLine($"after the restart the registry served {served} of {Image.DataBlob.Size} data blob bytes");
            Assert.True(served < Image.DataBlob.Size / 5, $"after the restart the registry served {served} of {Image.DataBlob.Size} data blob bytes: not lazy");
        }
        finally
        {
            await stack.Containerd.RemoveContainerAsync(ns, old);
        }

        await AssertImageRemovalCleansUpAsync(stack, ns, mark);
    }

    /// <summary>Runs a container reading a few files of <paramref name="group"/> and checks its output and the registry's bytes.</summary>
    private async Task AssertRunsLazilyAsync(ContainerdStack stack, string ns, char group, LogMark mark, Stopwatch sincePull)
    {
        stack.Describe(output, Image);
        var blob = Image.DataBlob;
        var atPull = RegistryAccessLog.BlobBytesServed(stack.Registry.Lines(mark.Registry), blob.Digest);
        output.WriteLine($"pulled in {sincePull.Elapsed.TotalSeconds:0.0} s; data blob bytes the pull fetched: {atPull}");

        var (script, expected) = Image.ReadScript(group);
        var run = await stack.Containerd.RunAsync(ns, Image.Reference, $"{ns}-read".Replace('.', '-'), script, RunTimeout);
        output.WriteLine($"container printed its output {sincePull.Elapsed.TotalSeconds:0.0} s after the pull started");
        Assert.True(run.ExitCode == 0 && run.StdOut == expected, $"expected:\n{expected}\n{run}\n{stack.LogsSince(mark)}");

        var served = await stack.SettledBlobBytesAsync(mark.Registry, blob.Digest);
        var share = (double)served / blob.Size;
        output.WriteLine($"registry served {served} of {blob.Size} data blob bytes ({share:P2}), in these requests:");
        foreach (var line in RegistryAccessLog.BlobRequests(stack.Registry.Lines(mark.Registry), blob.Digest))
        {
            output.WriteLine("  " + line);
        }

        Assert.True(share < 0.2, $"the registry served {served} of {blob.Size} bytes ({share:P1}) of the data blob: not lazy\n{stack.LogsSince(mark)}");
        Assert.Contains(stack.Serve.Lines(mark.Serve), l => l.Contains("[2012]", StringComparison.Ordinal) && l.Contains("fscache", StringComparison.Ordinal));
        stack.Describe(output, Image);
    }

    /// <summary>After the namespace's containers are gone: image removal + GC leave no lazy mount, no mount directory and no snapshot.</summary>
    private static async Task AssertImageRemovalCleansUpAsync(ContainerdStack stack, string ns, LogMark mark)
    {
        await stack.Containerd.RemoveImagesAsync(ns);
        Assert.True(stack.LazyMounts().Count == 0, $"lazy mounts left: {string.Join("; ", stack.LazyMounts())}\n{stack.LogsSince(mark)}");
        Assert.True(stack.MountDirectories().Count == 0, $"mount directories left: {string.Join(", ", stack.MountDirectories())}");
        var left = await stack.Containerd.SnapshotsAsync(ns);
        Assert.True(left.Count == 0, $"snapshots left in {ns}: {string.Join(", ", left)}");
    }
}
