using Microsoft.Extensions.Logging.Abstractions;
using Snapshotter.Core.Overlay;
using Snapshotter.Core.Remote;
using Snapshotter.Core.Snapshots;
using Snapshotter.Core.Tests.Remote;

namespace Snapshotter.Core.Tests.Overlay;

/// <summary>
/// The remote-snapshot path as containerd's unpacker drives it (shared/reference/containerd.md): data-blob layers are
/// committed remotely and answered AlreadyExists, the bootstrap layer is unpacked, and container snapshots on the image
/// get the image's lazy mount as their lowest layer.
/// </summary>
public sealed partial class OverlaySnapshotterRemoteTests : IAsyncLifetime
{
    private const string ImageRef = "localhost:5000/app:lazy";

    private readonly string _root = Path.Combine(Path.GetTempPath(), "core-remote-" + Guid.NewGuid().ToString("N"));
    private readonly RecordingRemoteFileSystem _remote = new();
    private OverlaySnapshotter _snapshotter = null!;

    public async Task InitializeAsync()
    {
        _snapshotter = await OverlaySnapshotter.OpenAsync(_root, NullLoggerFactory.Instance, _remote);
    }

    public async Task DisposeAsync()
    {
        await _snapshotter.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    private static string Digest(int layer) => "sha256:" + new string((char)('a' + layer), 64);

    private static string Chain(int layer) => "sha256:" + new string((char)('0' + layer), 64);

    private static Dictionary<string, string> BlobLabels(int layer, string labelKind = "cri") => new()
    {
        [RemoteLabels.TargetRef] = Chain(layer),
        [RemoteLabels.DataBlob] = "true",
        [labelKind == "cri" ? RemoteLabels.CriImageRef : RemoteLabels.StargzReference] = ImageRef,
        [labelKind == "cri" ? RemoteLabels.CriLayerDigest : RemoteLabels.StargzDigest] = Digest(layer),
    };

    /// <summary>What containerd's unpacker does for a data-blob layer: Prepare; AlreadyExists means "done".</summary>
    private async Task<SnapshotterException> PrepareBlobAsync(int layer, string parent, string labelKind = "cri") =>
        await Assert.ThrowsAsync<SnapshotterException>(() =>
            _snapshotter.PrepareAsync($"ns/{layer}/extract-{layer} {Chain(layer)}", parent, BlobLabels(layer, labelKind)).AsTask());

    /// <summary>Pulls a lazy image of <paramref name="blobs"/> data blobs plus the bootstrap layer; returns its top name.</summary>
    private async Task<string> PullLazyImageAsync(int blobs = 2, string labelKind = "cri")
    {
        var parent = string.Empty;
        for (var i = 0; i < blobs; i++)
        {
            var e = await PrepareBlobAsync(i, parent, labelKind);
            Assert.Equal(ErrorKind.AlreadyExists, e.Kind);
            parent = Chain(i);
        }

        var top = Chain(blobs);
        var labels = new Dictionary<string, string>
        {
            [RemoteLabels.TargetRef] = top,
            [RemoteLabels.Bootstrap] = "true",
            [RemoteLabels.CriImageRef] = ImageRef,
        };
        var key = $"ns/{blobs}/extract-bootstrap {top}";
        var mounts = await _snapshotter.PrepareAsync(key, parent, labels);
        var upper = Assert.Single(mounts).Options.Single(o => o.StartsWith("upperdir=", StringComparison.Ordinal))["upperdir=".Length..];
        Directory.CreateDirectory(Path.Combine(upper, "image"));
        await File.WriteAllTextAsync(Path.Combine(upper, RemoteLabels.BootstrapPath), "bootstrap");
        await _snapshotter.CommitAsync(top, key, labels);
        return top;
    }

    private static string LowerDir(IReadOnlyList<Mount> mounts) =>
        Assert.Single(mounts).Options.Single(o => o.StartsWith("lowerdir=", StringComparison.Ordinal))["lowerdir=".Length..];

    [Fact]
    public async Task Prepare_DataBlobLayer_CommitsRemotelyAndAnswersAlreadyExists()
    {
        var e = await PrepareBlobAsync(0, "");

        Assert.Equal(ErrorKind.AlreadyExists, e.Kind);
        Assert.Contains(Chain(0), e.Message);
        Assert.Equal((ImageRef, Digest(0)), Assert.Single(_remote.Resolved));
        var info = await _snapshotter.StatAsync(Chain(0));
        Assert.Equal(SnapshotKind.Committed, info.Kind);
        Assert.Equal(string.Empty, info.Parent);
        Assert.Equal(Chain(0), info.Labels[RemoteLabels.TargetRef]);
        Assert.Equal(info.CreatedAt, info.UpdatedAt);

        // containerd then looks the target up with this filter.
        var filter = SnapshotFilter.Parse([$"labels.\"containerd.io/snapshot.ref\"=={Chain(0)},parent==\"\""]);
        var found = new List<string>();
        await foreach (var s in _snapshotter.WalkAsync(filter))
        {
            found.Add(s.Name);
        }

        Assert.Equal([Chain(0)], found);
        Assert.Equal(0, (await _snapshotter.UsageAsync(Chain(0))).Size);
        Assert.Equal(1, _snapshotter.RemoteStatistics.RemoteCommits);
    }

    [Fact]
    public async Task Prepare_StargzLabels_AlsoGoRemote()
    {
        await PullLazyImageAsync(blobs: 1, labelKind: "stargz");

        Assert.Equal((ImageRef, Digest(0)), Assert.Single(_remote.Resolved));
        Assert.Equal(ImageRef, Assert.Single(_remote.Validated).ImageRef);
    }

    [Fact]
    public async Task Prepare_SecondNamespaceSameImage_AnswersAlreadyExistsWithoutResolvingAgain()
    {
        await PrepareBlobAsync(0, "");

        var again = await PrepareBlobAsync(0, "");

        Assert.Equal(ErrorKind.AlreadyExists, again.Kind);
        Assert.Single(_remote.Resolved);
    }

    [Theory]
    [InlineData(RemoteLabels.CriImageRef)]
    [InlineData(RemoteLabels.CriLayerDigest)]
    [InlineData(RemoteLabels.TargetRef)]
    public async Task Prepare_DataBlobMissingLabel_FallsBackToOrdinaryUnpack(string missing)
    {
        var labels = BlobLabels(0);
        labels.Remove(missing);

        var mounts = await _snapshotter.PrepareAsync("extract-0", "", labels);

        Assert.Equal("bind", Assert.Single(mounts).Type);
        Assert.Empty(_remote.Resolved);
        Assert.Equal(1, _snapshotter.RemoteStatistics.Fallbacks(FallbackReason.MissingLabels));
        await Assert.ThrowsAsync<SnapshotterException>(() => _snapshotter.StatAsync(Chain(0)).AsTask());
    }

    [Fact]
    public async Task Prepare_LayerUnresolvable_FallsBackToOrdinaryUnpackAndCounts()
    {
        _remote.ResolveFailure = SnapshotterException.Unavailable("registry unreachable");

        var mounts = await _snapshotter.PrepareAsync("extract-0", "", BlobLabels(0));

        Assert.Equal("bind", Assert.Single(mounts).Type);
        Assert.Equal(1, _snapshotter.RemoteStatistics.Fallbacks(FallbackReason.Unresolvable));
        Assert.Equal(0, _snapshotter.RemoteStatistics.RemoteCommits);
    }

    [Fact]
    public async Task Prepare_LazyOff_FallsBackToOrdinaryUnpack()
    {
        var root = Path.Combine(_root, "off");
        await using var plain = await OverlaySnapshotter.OpenAsync(root, NullLoggerFactory.Instance);

        var mounts = await plain.PrepareAsync("extract-0", "", BlobLabels(0));

        Assert.Equal("bind", Assert.Single(mounts).Type);
        Assert.Equal(1, plain.RemoteStatistics.Fallbacks(FallbackReason.Disabled));
    }

    [Fact]
    public async Task Prepare_TargetNameOnOtherParent_FallsBackToOrdinaryUnpack()
    {
        await PrepareBlobAsync(0, "");
        await PrepareBlobAsync(1, Chain(0));

        // Layer 1's target again, but on no parent: not the snapshot containerd would find.
        var mounts = await _snapshotter.PrepareAsync("other", "", BlobLabels(1));

        Assert.Equal("bind", Assert.Single(mounts).Type);
        Assert.Equal(1, _snapshotter.RemoteStatistics.Fallbacks(FallbackReason.NameConflict));
    }

    [Fact]
    public async Task Commit_Bootstrap_IsValidatedWithTheImagesLayers()
    {
        await PullLazyImageAsync(blobs: 3);

        var image = Assert.Single(_remote.Validated);
        Assert.Equal(ImageRef, image.ImageRef);
        Assert.Equal([Digest(0), Digest(1), Digest(2)], image.Layers.Select(l => l.Digest));
        Assert.All(image.Layers, l => Assert.Equal(_remote.BlobSize, l.Size));
        Assert.Equal("bootstrap", await File.ReadAllTextAsync(image.BootstrapPath));
        Assert.Empty(_remote.Mounts);
    }

    [Fact]
    public async Task Commit_BootstrapInvalid_FailsAndKeepsTheActiveSnapshot()
    {
        _remote.ValidateFailure = SnapshotterException.FailedPrecondition("invalid bootstrap: bad magic");

        var e = await Assert.ThrowsAsync<SnapshotterException>(() => PullLazyImageAsync(blobs: 1));

        Assert.Equal(ErrorKind.FailedPrecondition, e.Kind);
        Assert.Contains("bad magic", e.Message);
        await Assert.ThrowsAsync<SnapshotterException>(() => _snapshotter.StatAsync(Chain(1)).AsTask());
        Assert.Equal(SnapshotKind.Active, (await _snapshotter.StatAsync($"ns/1/extract-bootstrap {Chain(1)}")).Kind);
    }

    [Fact]
    public async Task Prepare_ContainerOnLazyImage_MountsImageOnceAndStacksOverlayOnIt()
    {
        var top = await PullLazyImageAsync();

        var first = await _snapshotter.PrepareAsync("container-1", top, new Dictionary<string, string>());
        var second = await _snapshotter.PrepareAsync("container-2", top, new Dictionary<string, string>());
        var view = await _snapshotter.ViewAsync("view-1", top, new Dictionary<string, string>());

        var (image, mountPoint) = Assert.Single(_remote.Mounts);
        Assert.Equal(mountPoint, LowerDir(first));
        Assert.Equal(mountPoint, LowerDir(second));
        Assert.Equal("bind", Assert.Single(view).Type);
        Assert.Equal(mountPoint, Assert.Single(view).Source);
        Assert.Contains("ro", Assert.Single(view).Options);
        Assert.Equal([Digest(0), Digest(1)], image.Layers.Select(l => l.Digest));
        Assert.EndsWith(RemoteLabels.BootstrapPath, image.BootstrapPath);
        Assert.Equal(mountPoint, LowerDir(await _snapshotter.MountsAsync("container-1")));
        Assert.Equal(1, _snapshotter.RemoteStatistics.Mounted);
    }

    [Fact]
    public async Task Remove_LastContainerOfImage_UnmountsAndRemovesTheMountDirectory()
    {
        var top = await PullLazyImageAsync();
        await _snapshotter.PrepareAsync("container-1", top, new Dictionary<string, string>());
        await _snapshotter.ViewAsync("view-1", top, new Dictionary<string, string>());
        var mountPoint = Assert.Single(_remote.Mounts).MountPoint;

        await _snapshotter.RemoveAsync("container-1");
        Assert.Empty(_remote.Unmounts);
        await _snapshotter.RemoveAsync("view-1");

        Assert.Equal([mountPoint], _remote.Unmounts);
        Assert.False(Directory.Exists(mountPoint));
        Assert.Equal(0, _snapshotter.RemoteStatistics.Mounted);
    }

    [Fact]
    public async Task Prepare_OnCommittedContainerAboveImage_StacksItsLayerAboveTheLazyMount()
    {
        var top = await PullLazyImageAsync();
        var mounts = await _snapshotter.PrepareAsync("build-1", top, new Dictionary<string, string>());
        var upper = Assert.Single(mounts).Options.Single(o => o.StartsWith("upperdir=", StringComparison.Ordinal))["upperdir=".Length..];
        await _snapshotter.CommitAsync("built", "build-1", new Dictionary<string, string>());

        var child = await _snapshotter.PrepareAsync("container", "built", new Dictionary<string, string>());

        var lower = LowerDir(child).Split(':');
        Assert.Equal(2, lower.Length);
        Assert.Equal(upper, lower[0]);
        Assert.Equal(_remote.Mounts[^1].MountPoint, lower[1]);
    }

    [Fact]
    public async Task Prepare_MountFails_ThrowsAndLeavesNoSnapshot()
    {
        var top = await PullLazyImageAsync();
        _remote.MountFailure = SnapshotterException.Unavailable($"image {ImageRef}: registry unreachable");

        var e = await Assert.ThrowsAsync<SnapshotterException>(() => _snapshotter.PrepareAsync("container-1", top, new Dictionary<string, string>()).AsTask());

        Assert.Equal(ErrorKind.Unavailable, e.Kind);
        Assert.Contains(ImageRef, e.Message);
        await Assert.ThrowsAsync<SnapshotterException>(() => _snapshotter.StatAsync("container-1").AsTask());

        // A retry once the registry is back works.
        _remote.MountFailure = null;
        await _snapshotter.PrepareAsync("container-1", top, new Dictionary<string, string>());
        Assert.Single(_remote.Mounts);
    }

    [Fact]
    public async Task Reopen_AfterRestart_DetachesStaleMountAndRemountsOnFirstUse()
    {
        var top = await PullLazyImageAsync();
        await _snapshotter.PrepareAsync("container-1", top, new Dictionary<string, string>());
        var mountPoint = Assert.Single(_remote.Mounts).MountPoint;

        // A crash: the process is gone without unmounting; a new one opens the same root.
        _remote.Forget();
        var restarted = await OverlaySnapshotter.OpenAsync(_root, NullLoggerFactory.Instance, _remote);
        await using (restarted)
        {
            Assert.Contains(mountPoint, _remote.Unmounts);

            var mounts = await restarted.MountsAsync("container-1");
            Assert.Equal(mountPoint, LowerDir(mounts));
            Assert.Equal(2, _remote.Mounts.Count);
            await restarted.PrepareAsync("container-2", top, new Dictionary<string, string>());
            Assert.Equal(2, _remote.Mounts.Count);
        }
    }

    [Fact]
    public async Task Cleanup_AfterImageRemoved_PrunesWithTheDigestsStillReferenced()
    {
        var top = await PullLazyImageAsync(blobs: 2);

        await _snapshotter.RemoveAsync(top);
        await _snapshotter.RemoveAsync(Chain(1));
        await _snapshotter.CleanupAsync();

        Assert.Equal([Digest(0)], _remote.Prunes[^1].Order());
        await _snapshotter.RemoveAsync(Chain(0));
        await _snapshotter.CleanupAsync();
        Assert.Empty(_remote.Prunes[^1]);
    }

    [Fact]
    public async Task Dispose_WithMountedImage_Unmounts()
    {
        var top = await PullLazyImageAsync();
        await _snapshotter.PrepareAsync("container-1", top, new Dictionary<string, string>());

        await _snapshotter.DisposeAsync();

        Assert.Equal(_remote.Mounts[0].MountPoint, Assert.Single(_remote.Unmounts));
        _snapshotter = await OverlaySnapshotter.OpenAsync(_root, NullLoggerFactory.Instance, _remote);
    }
}
