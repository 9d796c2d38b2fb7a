using Snapshotter.Lazy.Images;

namespace Snapshotter.Lazy.Backends;

/// <summary>
/// How the bytes of a mounted image reach the kernel: <c>fscache</c> (cachefiles on-demand + EROFS fsid mounts),
/// <c>fuse</c> (blob files served over FUSE, EROFS mounted from them) or <c>blob-fetch</c> (blobs downloaded whole,
/// EROFS mounted from local files). One instance serves every image of a domain.
/// </summary>
internal interface ILazyBackend : IAsyncDisposable
{
    /// <summary>The mode name, as <c>--lazy-mode</c> spells it.</summary>
    string Mode { get; }

    /// <summary>
    /// Mounts <paramref name="image"/> read-only at <paramref name="mountPoint"/>; disposing the result unmounts it
    /// (detaching it if still busy). Throws <see cref="SnapshotterException"/> or an IOException naming the failure.
    /// </summary>
    ValueTask<IAsyncDisposable> MountAsync(LazyImage image, string mountPoint, CancellationToken cancellationToken = default);

    /// <summary>Stored bytes fetched for <paramref name="blob"/> and bytes read from it, as far as this backend served it.</summary>
    (long Fetched, long Read) Usage(Blobs.LazyBlob blob);
}
