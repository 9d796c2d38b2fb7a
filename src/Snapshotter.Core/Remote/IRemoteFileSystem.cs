namespace Snapshotter.Core.Remote;

/// <summary>
/// How the bytes of lazily pulled images arrive (after stargz-snapshotter's <c>snapshot.FileSystem</c>): the
/// snapshotter decides when a layer is remote and which mounts containerd gets; an implementation resolves layers,
/// mounts images read-only and serves their reads. Failures throw <see cref="SnapshotterException"/> with a kind
/// that maps to a gRPC code and a message naming the image and the cause.
/// </summary>
public interface IRemoteFileSystem
{
    /// <summary>How images are served (e.g. <c>fscache</c>, <c>fuse</c>, <c>blob-fetch</c>), for logs and metrics.</summary>
    string Mode { get; }

    /// <summary>
    /// Checks that the data blob <paramref name="digest"/> of <paramref name="imageRef"/> can be served lazily (it
    /// exists and our credentials may read it) and returns its size. Called when containerd prepares the layer; a
    /// failure makes the snapshotter fall back to an ordinary unpack of that layer.
    /// </summary>
    ValueTask<RemoteLayer> ResolveLayerAsync(string imageRef, string digest, CancellationToken cancellationToken = default);

    /// <summary>
    /// A hint from the first lazy layer's Prepare: containerd will prepare the layers <paramref name="digests"/> of
    /// <paramref name="imageRef"/> next, one after another, each waiting for the one before. An implementation may start
    /// resolving them now (concurrently) so that <see cref="ResolveLayerAsync"/> finds the answer ready; it must not
    /// throw, and a failed early attempt must not decide a later call's outcome.
    /// </summary>
    void AnticipateLayers(string imageRef, IReadOnlyList<string> digests);

    /// <summary>
    /// Downloads the bootstrap layer <paramref name="digest"/> of <paramref name="imageRef"/> (a tar holding
    /// <c>image/image.boot</c>), checks the layer's digest, and writes the EROFS bootstrap to
    /// <paramref name="destination"/> (complete or not at all). Called when containerd prepares the bootstrap layer, so
    /// that containerd neither downloads nor unpacks it; a failure makes the snapshotter let containerd unpack it.
    /// </summary>
    ValueTask FetchBootstrapAsync(string imageRef, string digest, string destination, CancellationToken cancellationToken = default);

    /// <summary>
    /// Checks that <paramref name="image"/>'s bootstrap is a valid image whose data blobs are among its layers. Called
    /// when containerd commits the bootstrap layer, so that a broken image fails its pull rather than its containers.
    /// </summary>
    ValueTask ValidateAsync(RemoteImage image, CancellationToken cancellationToken = default);

    /// <summary>Mounts <paramref name="image"/> read-only at <paramref name="mountPoint"/> (an existing, empty directory).</summary>
    ValueTask MountAsync(RemoteImage image, string mountPoint, CancellationToken cancellationToken = default);

    /// <summary>True when this process serves a live mount at <paramref name="mountPoint"/>.</summary>
    bool IsMounted(string mountPoint);

    /// <summary>Unmounts <paramref name="mountPoint"/> and releases what the mount held. Unknown mount points are ignored.</summary>
    ValueTask UnmountAsync(string mountPoint, CancellationToken cancellationToken = default);

    /// <summary>Deletes cached data of blobs whose digests are not in <paramref name="liveDigests"/> and that no mount uses.</summary>
    ValueTask PruneAsync(IReadOnlySet<string> liveDigests, CancellationToken cancellationToken = default);
}
