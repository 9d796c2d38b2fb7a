namespace Snapshotter.Cachefiles.Images;

/// <summary>One mounted lazily pulled image; disposing unmounts it and forgets its registration.</summary>
public sealed class LazyMount : IAsyncDisposable
{
    private readonly Action<LazyMount> _release;
    private int _disposed;

    internal LazyMount(string fsid, string? domainId, string mountPoint, string manifestDigest, IReadOnlyList<string> blobDigests, Action<LazyMount> release)
    {
        Fsid = fsid;
        DomainId = domainId;
        MountPoint = mountPoint;
        ManifestDigest = manifestDigest;
        BlobDigests = blobDigests;
        _release = release;
    }

    public string Fsid { get; }

    public string? DomainId { get; }

    public string MountPoint { get; }

    public string ManifestDigest { get; }

    /// <summary>The data blobs (layer digests) the image reads from.</summary>
    public IReadOnlyList<string> BlobDigests { get; }

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _release(this);
        }

        return ValueTask.CompletedTask;
    }
}
