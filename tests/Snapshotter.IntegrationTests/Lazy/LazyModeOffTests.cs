using Grpc.Core;
using Snapshotter.IntegrationTests.Fixtures;
using Xunit.Abstractions;

namespace Snapshotter.IntegrationTests.Lazy;

/// <summary>
/// <c>--lazy-mode off</c>: a lazy image's data layers fall back to the ordinary unpack path, so the pull fails exactly
/// the way containerd's own overlayfs snapshotter fails on their media type (no stream processor for
/// <c>application/vnd.oci.image.layer.nydus.blob.v1</c>), nothing is left behind and the service keeps serving.
/// </summary>
[Collection(IntegrationCollection.Name)]
public sealed class LazyModeOffTests : IntegrationTest, IClassFixture<LazyOffFixture>
{
    private const string NoProcessor = "no processor for media-type";
    private static readonly TimeSpan PullTimeout = TimeSpan.FromMinutes(5);
    private readonly LazyOffFixture _lazy;

    public LazyModeOffTests(LazyOffFixture fixture, ITestOutputHelper output)
        : base(fixture.Containerd, output)
    {
        _lazy = fixture;
    }

    [Fact]
    public async Task Pull_LazyImageWithLazyModeOff_FailsLikeTheBuiltInOverlayfsAndServeKeepsServing()
    {
        var ours = Fixture.Ctr(Fixture.NewNamespace("off"));
        var builtIn = Fixture.Ctr(Fixture.NewNamespace("off-overlayfs"));
        int logMark = _lazy.Snapshotter.LogLineCount;

        var failed = await RpullAsync(ours, Snapshotter, _lazy.Images.LazyReference);
        var reference = await RpullAsync(builtIn, "overlayfs", _lazy.Images.LazyReference);
        RpcException criFailed;
        using (var cri = _lazy.Cri())
        {
            criFailed = await Assert.ThrowsAsync<RpcException>(() => cri.PullAsync(_lazy.Images.LazyReference));
        }

        Output.WriteLine($"nydus (off): {failed.StdErr.Trim()}\noverlayfs: {reference.StdErr.Trim()}\nCRI: {criFailed.Status}");
        Assert.True(reference.ExitCode != 0, $"containerd's overlayfs unexpectedly pulled the lazy image: {reference}");
        Assert.True(failed.ExitCode != 0, failed.ToString());
        string dataBlob = _lazy.Images.Lazy.DataBlobs[0].Digest;
        foreach (string message in new[] { failed.StdErr, reference.StdErr, criFailed.Status.Detail })
        {
            Assert.Contains(NoProcessor, message, StringComparison.Ordinal);
            Assert.Contains("nydus.blob", message, StringComparison.Ordinal);
        }

        Assert.Contains($"failed to extract layer {dataBlob}", failed.StdErr, StringComparison.Ordinal);
        Assert.Contains("unpacked the ordinary way (Disabled): lazy pulling is off", _lazy.Snapshotter.Logs(logMark), StringComparison.Ordinal);

        await Fixture.CollectGarbageAsync();
        Assert.False(_lazy.Snapshotter.HasExited, "serve exited");
        Assert.Empty(CtrOutput.Ls(await ours.SnapshotsOkAsync(Snapshotter, "ls")));
        Assert.Empty(Mounts.EntriesUnder(_lazy.Snapshotter.Root));

        // The service still serves ordinary images.
        (await ours.RunAsync(PullTimeout, "images", "pull", "--plain-http", "--snapshotter", Snapshotter, _lazy.Images.OciReference)).EnsureSuccess();
        var run = await ours.RunAsync(PullTimeout, "run", "--rm", "--snapshotter", Snapshotter, _lazy.Images.OciReference, "c-off", "/bin/busybox", "cat", LazyTestImage.SmallFile);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(LazyTestImage.SmallFileContent, run.StdOut.Trim());
    }

    private Task<ProcessResult> RpullAsync(Ctr ctr, string snapshotter, string image) =>
        ProcessRunner.RunAsync("ctr-remote", ["-a", Fixture.Address, "-n", ctr.Namespace, "images", "rpull", "--snapshotter", snapshotter, "--plain-http", image], PullTimeout);
}
