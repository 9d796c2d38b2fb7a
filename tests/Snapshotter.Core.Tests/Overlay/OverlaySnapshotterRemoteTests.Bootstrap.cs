using Microsoft.Extensions.Logging.Abstractions;
using Snapshotter.Core.Overlay;
using Snapshotter.Core.Remote;
using Snapshotter.Core.Snapshots;

namespace Snapshotter.Core.Tests.Overlay;

/// <summary>
/// The bootstrap layer's Prepare with the labels ctr-remote and the CRI plugin send: the snapshotter fetches the bootstrap
/// itself and answers AlreadyExists (containerd neither downloads nor unpacks it), or answers as for an ordinary layer
/// when it cannot; and the first lazy layer's Prepare passes the image's layer list on as a hint.
/// </summary>
public sealed partial class OverlaySnapshotterRemoteTests
{
    /// <summary>Labels of layer <paramref name="layer"/> of an image of <paramref name="layers"/> layers, the last the bootstrap.</summary>
    private static Dictionary<string, string> ImageLabels(int layer, int layers, bool stargz = false)
    {
        var labels = new Dictionary<string, string>
        {
            [RemoteLabels.TargetRef] = Chain(layer),
            [layer == layers - 1 ? RemoteLabels.Bootstrap : RemoteLabels.DataBlob] = "true",
            [stargz ? RemoteLabels.StargzReference : RemoteLabels.CriImageRef] = ImageRef,
            [stargz ? RemoteLabels.StargzDigest : RemoteLabels.CriLayerDigest] = Digest(layer),
            [stargz ? RemoteLabels.StargzLayers : RemoteLabels.CriImageLayers] = string.Join(',', Enumerable.Range(layer, layers - layer).Select(Digest)),
        };
        return labels;
    }

    private static string ExtractKey(int layer) => $"ns/{layer}/extract-{layer} {Chain(layer)}";

    /// <summary>What containerd's unpacker does for the data blobs: Prepare each; AlreadyExists means "done".</summary>
    private async Task PrepareDataBlobsAsync(int layers, bool stargz = false)
    {
        var parent = string.Empty;
        for (var i = 0; i < layers - 1; i++)
        {
            var e = await Assert.ThrowsAsync<SnapshotterException>(() => _snapshotter.PrepareAsync(ExtractKey(i), parent, ImageLabels(i, layers, stargz)).AsTask());
            Assert.Equal(ErrorKind.AlreadyExists, e.Kind);
            parent = Chain(i);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Prepare_BootstrapOnRemoteDataBlobs_FetchesItAndAnswersAlreadyExists(bool stargz)
    {
        await PrepareDataBlobsAsync(layers: 3, stargz);

        var e = await Assert.ThrowsAsync<SnapshotterException>(() => _snapshotter.PrepareAsync(ExtractKey(2), Chain(1), ImageLabels(2, 3, stargz)).AsTask());

        Assert.Equal(ErrorKind.AlreadyExists, e.Kind);
        Assert.Contains(Chain(2), e.Message);
        Assert.Equal((ImageRef, Digest(2)), Assert.Single(_remote.BootstrapFetches));
        var validated = Assert.Single(_remote.Validated);
        Assert.Equal([Digest(0), Digest(1)], validated.Layers.Select(l => l.Digest));
        var info = await _snapshotter.StatAsync(Chain(2));
        Assert.Equal(SnapshotKind.Committed, info.Kind);
        Assert.Equal(Chain(1), info.Parent);
        Assert.Equal(info.CreatedAt, info.UpdatedAt);
        Assert.Equal(Chain(2), info.Labels[RemoteLabels.TargetRef]);
        var usage = await _snapshotter.UsageAsync(Chain(2));
        Assert.True(usage.Size >= "fetched bootstrap".Length, $"usage {usage.Size} bytes");
        Assert.True(usage.Inodes >= 2, $"usage {usage.Inodes} inodes (image/ and image.boot)");
        await Assert.ThrowsAsync<SnapshotterException>(() => _snapshotter.StatAsync(ExtractKey(2)).AsTask());
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_root, "incoming")));
    }

    [Fact]
    public async Task Prepare_ContainerOnFetchedBootstrap_MountsTheImageFromIt()
    {
        await PrepareDataBlobsAsync(layers: 3);
        await Assert.ThrowsAsync<SnapshotterException>(() => _snapshotter.PrepareAsync(ExtractKey(2), Chain(1), ImageLabels(2, 3)).AsTask());

        var mounts = await _snapshotter.PrepareAsync("container-1", Chain(2), new Dictionary<string, string>());

        var (image, mountPoint) = Assert.Single(_remote.Mounts);
        Assert.Contains("lowerdir=" + mountPoint, Assert.Single(mounts).Options);
        Assert.Equal([Digest(0), Digest(1)], image.Layers.Select(l => l.Digest));
        Assert.Equal("fetched bootstrap", await File.ReadAllTextAsync(image.BootstrapPath));
        Assert.EndsWith(RemoteLabels.BootstrapPath, image.BootstrapPath);
    }

    [Fact]
    public async Task Prepare_BootstrapFetchFails_AnswersMountsForContainerToUnpack()
    {
        _remote.FetchBootstrapFailure = SnapshotterException.Unavailable("registry answered 503");
        await PrepareDataBlobsAsync(layers: 2);

        var mounts = await _snapshotter.PrepareAsync(ExtractKey(1), Chain(0), ImageLabels(1, 2));

        Assert.Contains(Assert.Single(mounts).Options, o => o.StartsWith("upperdir=", StringComparison.Ordinal));
        Assert.Equal(SnapshotKind.Active, (await _snapshotter.StatAsync(ExtractKey(1))).Kind);
        Assert.Empty(_remote.Validated);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_root, "incoming")));
    }

    [Fact]
    public async Task Prepare_FetchedBootstrapInvalid_AnswersMountsAndCommitStillChecks()
    {
        _remote.ValidateFailure = SnapshotterException.FailedPrecondition("invalid bootstrap: bad magic");
        await PrepareDataBlobsAsync(layers: 2);

        var mounts = await _snapshotter.PrepareAsync(ExtractKey(1), Chain(0), ImageLabels(1, 2));
        var upper = Assert.Single(mounts).Options.Single(o => o.StartsWith("upperdir=", StringComparison.Ordinal))["upperdir=".Length..];
        Directory.CreateDirectory(Path.Combine(upper, "image"));
        await File.WriteAllTextAsync(Path.Combine(upper, RemoteLabels.BootstrapPath), "unpacked by containerd");
        var e = await Assert.ThrowsAsync<SnapshotterException>(() => _snapshotter.CommitAsync(Chain(1), ExtractKey(1), ImageLabels(1, 2)).AsTask());

        Assert.Equal(ErrorKind.FailedPrecondition, e.Kind);
        Assert.Contains("bad magic", e.Message);
        Assert.Equal(2, _remote.Validated.Count);
    }

    [Fact]
    public async Task Prepare_BootstrapOnOrdinaryLayers_IsNotFetched()
    {
        var parentKey = "ns/0/extract-0";
        await _snapshotter.PrepareAsync(parentKey, "", new Dictionary<string, string>());
        await _snapshotter.CommitAsync(Chain(0), parentKey, new Dictionary<string, string>());

        var mounts = await _snapshotter.PrepareAsync(ExtractKey(1), Chain(0), ImageLabels(1, 2));

        Assert.Contains(Assert.Single(mounts).Options, o => o.StartsWith("upperdir=", StringComparison.Ordinal));
        Assert.Empty(_remote.BootstrapFetches);
    }

    [Fact]
    public async Task Prepare_BootstrapAlreadyCommitted_AnswersAlreadyExistsWithoutFetchingAgain()
    {
        await PrepareDataBlobsAsync(layers: 2);
        await Assert.ThrowsAsync<SnapshotterException>(() => _snapshotter.PrepareAsync(ExtractKey(1), Chain(0), ImageLabels(1, 2)).AsTask());

        var again = await Assert.ThrowsAsync<SnapshotterException>(() => _snapshotter.PrepareAsync("other/1/extract " + Chain(1), Chain(0), ImageLabels(1, 2)).AsTask());

        Assert.Equal(ErrorKind.AlreadyExists, again.Kind);
        Assert.Single(_remote.BootstrapFetches);
    }

    [Fact]
    public async Task Prepare_FirstDataBlob_PassesTheImagesLayerListOn()
    {
        await PrepareDataBlobsAsync(layers: 3);

        var (imageRef, digests) = _remote.Anticipated[0];
        Assert.Equal(ImageRef, imageRef);
        Assert.Equal([Digest(0), Digest(1), Digest(2)], digests);
    }

    [Fact]
    public async Task Open_AfterCrashDuringFetch_DeletesTheIncompleteDownload()
    {
        var incoming = Directory.CreateDirectory(Path.Combine(_root, "incoming")).FullName;
        await File.WriteAllTextAsync(Path.Combine(incoming, "left.boot"), "half");
        await _snapshotter.DisposeAsync();

        _snapshotter = await OverlaySnapshotter.OpenAsync(_root, NullLoggerFactory.Instance, _remote);

        Assert.Empty(Directory.EnumerateFiles(incoming));
    }
}
