namespace Snapshotter.Lazy.Blobs;

/// <summary>
/// The data blobs of one domain, with the ONE reference count per blob: every mounted image that uses a blob holds one
/// reference, and the blob (with the state of every backend serving it) goes away when the last image is unmounted.
/// Thread-safe.
/// </summary>
internal sealed class LazyBlobRegistry
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, LazyBlob> _blobs = new(StringComparer.Ordinal);

    /// <summary>Blobs in use.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _blobs.Count;
            }
        }
    }

    /// <summary>Takes a reference on the blob <paramref name="digest"/>, creating it with <paramref name="create"/> when new.</summary>
    public LazyBlob Acquire(string digest, Func<LazyBlob> create)
    {
        lock (_lock)
        {
            if (!_blobs.TryGetValue(digest, out var blob))
            {
                blob = create();
                _blobs[digest] = blob;
            }

            blob.References++;
            return blob;
        }
    }

    /// <summary>Drops a reference; the last one removes the blob and disposes its backend states.</summary>
    public async ValueTask ReleaseAsync(LazyBlob blob)
    {
        lock (_lock)
        {
            if (--blob.References > 0)
            {
                return;
            }

            _blobs.Remove(blob.Digest);
        }

        await blob.DisposeStatesAsync().ConfigureAwait(false);
    }

    /// <summary>The blob in use with <paramref name="digest"/>, if any (a kernel OPEN names a blob by its tag).</summary>
    public bool TryGet(string digest, out LazyBlob blob)
    {
        lock (_lock)
        {
            return _blobs.TryGetValue(digest, out blob!);
        }
    }

    /// <summary>Whether some mounted image uses the blob.</summary>
    public bool IsInUse(string digest)
    {
        lock (_lock)
        {
            return _blobs.ContainsKey(digest);
        }
    }
}
