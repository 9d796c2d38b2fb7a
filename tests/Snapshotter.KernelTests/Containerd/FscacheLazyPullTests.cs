using System.Diagnostics;
using Snapshotter.IntegrationTests.Fixtures;
using Xunit.Abstractions;

namespace Snapshotter.KernelTests.Containerd;

/// <summary>
/// Issue 10's acceptance, VM tier: real containerd 1.6 + runc + docker-registry + our <c>snapshotter serve</c> in fscache
/// mode, all inside the on-demand guest. The converted image with a ~200 MiB data layer is pulled lazily through both
/// pull paths (<c>ctr-remote images rpull</c> and CRI <c>PullImage</c>); a container reading a few small files prints
/// the right output while the registry (its own access log) serves well under a fifth of the data blobs. Every test
/// reads its own block of the 200 MiB file (a chunk no other test fetched); the tests run in name order, so the first,
/// the CRI pull, starts on a cold cache (busybox, the bootstrap and all).
/// </summary>
[Collection(ContainerdCollection.Name)]
[TestCaseOrderer(MethodNameOrderer.TypeName, MethodNameOrderer.AssemblyName)]
public sealed partial class FscacheLazyPullTests(FscacheVmFixture fixture, ITestOutputHelper output)
    : VmLazyTest(fixture, output), IClassFixture<FscacheVmFixture>
{
    /// <summary>The acceptance bound: the registry serves well under this share of the data blobs for a container reading a few small files.</summary>
    public const double MaxServedShare = 0.20;

    private LazyVmImage Image => Images.Big;

    [Fact]
    public async Task Rpull_ImageWith200MiBDataLayer_ContainerPrintsTheFilesAndRegistryServesWellUnderAFifthOfTheData()
    {
        var ctr = NewCtr("rpull");
        int mark = Registry.Mark();
        var clock = Stopwatch.StartNew();

        (await RpullAsync(ctr, Image.Reference)).EnsureSuccess();
        Output.WriteLine($"ctr-remote images rpull took {clock.Elapsed.TotalSeconds:F1} s");

        await AssertPulledLazilyAsync(ctr, Image, mark);
        await AssertRunsLazilyAsync(ctr, 'a', 12_345, mark, clock);
    }

    [Fact]
    public async Task CriPullImage_ImageWith200MiBDataLayer_ContainerPrintsTheFilesAndRegistryServesWellUnderAFifthOfTheData()
    {
        var ctr = CriCtr();
        int mark = Registry.Mark();
        int logMark = Lazy.Snapshotter.LogLineCount;
        var clock = Stopwatch.StartNew();

        string imageId = await CriPullAsync(Image.Reference);
        Output.WriteLine($"CRI PullImage answered {imageId} after {clock.Elapsed.TotalSeconds:F1} s");
        using (var cri = Lazy.Cri())
        {
            var status = await cri.StatusAsync(Image.Reference);
            Assert.NotNull(status);
            Assert.Equal(imageId, status.Id);
        }

        // The CRI labels (cri.image-ref, cri.layer-digest) reached the service: no layer fell back to the ordinary unpack.
        Assert.DoesNotContain("OverlaySnapshotter[2011]", Lazy.Snapshotter.Logs(logMark), StringComparison.Ordinal);
        await AssertPulledLazilyAsync(ctr, Image, mark);
        await AssertRunsLazilyAsync(ctr, 'b', 40_000, mark, clock);
    }

    [Fact]
    public async Task Run_TwoContainersOfOneLazyImage_ShareOneFscacheMountUntilTheLastIsRemoved()
    {
        var ctr = NewCtr("share");
        (await RpullAsync(ctr, Image.Reference)).EnsureSuccess();
        string first = ContainerId();
        string second = ContainerId();

        await StartSleeperAsync(ctr, Image.Reference, first);
        await StartSleeperAsync(ctr, Image.Reference, second);

        // One EROFS mount over fscache (fsid in the service's shared domain) and one cachefiles volume for it.
        var lazy = Assert.Single(LazyMounts());
        Output.WriteLine($"lazy mount: {lazy}");
        Assert.Equal("none", lazy.Source);
        Assert.Contains("fsid=", lazy.SuperOptions, StringComparison.Ordinal);
        Assert.Contains("domain_id=lazysnap", lazy.SuperOptions, StringComparison.Ordinal);
        Assert.Equal(new[] { lazy.MountPoint }, Directory.GetDirectories(Lazy.MountsDirectory));
        Assert.True(FscacheProc.Volumes(FscacheProc.ServiceVolume).Count == 1, FscacheProc.Describe());
        foreach (string id in new[] { first, second })
        {
            // Each container's rootfs is an overlay whose lowest layer is the one lazy mount.
            var rootfs = Assert.Single(Mounts.EntriesUnder(Fixture.ContainerdState), m => m.FsType == "overlay" && m.MountPoint.EndsWith($"/{id}/rootfs", StringComparison.Ordinal));
            Assert.Contains(lazy.MountPoint, rootfs.SuperOptions, StringComparison.Ordinal);
        }

        await RemoveContainerAsync(ctr, first);
        await Fixture.CollectGarbageAsync();
        Assert.Equal(lazy, Assert.Single(LazyMounts()));
        var (script, expected) = Image.ReadScript('a', 20_000);
        var still = await ctr.RunAsync(RunTimeout, "tasks", "exec", "--exec-id", "x", second, "/bin/sh", "-c", script);
        Assert.True(still.ExitCode == 0 && still.StdOut == expected, $"expected:\n{expected}\n{still}");

        await RemoveContainerAsync(ctr, second);
        await Fixture.CollectGarbageAsync();
        Assert.Empty(LazyMounts());
        Assert.Empty(MountDirectories());
    }

    /// <summary>Runs a container reading a few files of <paramref name="group"/> and one block of the big file, checks its output and what the registry served for it.</summary>
    private async Task AssertRunsLazilyAsync(Ctr ctr, char group, long block, int registryMark, Stopwatch sincePull)
    {
        int logMark = Lazy.Snapshotter.LogLineCount;
        var (script, expected) = Image.ReadScript(group, block);
        var run = await RunAsync(ctr, Image.Reference, script);
        Output.WriteLine($"the container exited {sincePull.Elapsed.TotalSeconds:F1} s after the pull started");
        Assert.True(run.ExitCode == 0 && run.StdOut == expected, $"expected:\n{expected}\n{run}");

        var served = await SettledServeBytesAsync(registryMark, Image.DataBlobs);
        long total = Image.DataBlobs.Sum(b => b.Size);
        double share = (double)served.Values.Sum() / total;
        Output.WriteLine($"registry served our service {served.Values.Sum()} of {total} data blob bytes ({share:P2}): " +
            string.Join(", ", Image.DataBlobs.Select(b => $"{b.Digest[7..19]} {served[b.Digest]}/{b.Size}")));
        Assert.True(served[Image.DataBlob.Digest] > 0, "the registry served nothing of the 200 MiB layer's blob: the read of a block no other test reads did not reach it");
        Assert.True(share < MaxServedShare, $"the registry served {share:P1} of the data blobs to read a few small files: not lazy");
        Assert.True(served[Image.DataBlob.Digest] < MaxServedShare * Image.DataBlob.Size, $"the registry served {served[Image.DataBlob.Digest]} of {Image.DataBlob.Size} bytes of the 200 MiB layer's blob");

        // Mounted over fscache, not through a fallback mode.
        string logs = Lazy.Snapshotter.Logs(logMark);
        Assert.DoesNotContain("Snapshotter.Lazy[6002]", logs, StringComparison.Ordinal);
    }
}
