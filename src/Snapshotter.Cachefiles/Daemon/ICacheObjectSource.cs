namespace Snapshotter.Cachefiles.Daemon;

/// <summary>Supplies the bytes of one cache object (a bootstrap or a data blob) when the kernel misses.</summary>
public interface ICacheObjectSource
{
    /// <summary>The object's full size in bytes (the uncompressed size for a data blob), replied to OPEN.</summary>
    long Size { get; }

    /// <summary>
    /// Called on every OPEN of the object, with the writer of its (possibly new) cache file: the kernel may have culled
    /// and recreated the file, so whatever the source remembers as present must be forgotten; a source may also start
    /// background work (prefetch) that writes through <paramref name="writer"/>. Defaults to doing nothing.
    /// </summary>
    void Opened(CacheObjectWriter writer)
    {
    }

    /// <summary>Called on CLOSE: stop background work for the object. Defaults to doing nothing.</summary>
    void Closed()
    {
    }

    /// <summary>
    /// Makes <c>[offset, offset + length)</c> present in the cache file by writing it through
    /// <paramref name="writer"/> (any larger, page-aligned range is fine). Returns a failed <see cref="FillResult"/>
    /// when the data cannot be had; must not throw for expected failures, because every READ is completed exactly once
    /// by the caller whatever happens here.
    /// </summary>
    ValueTask<FillResult> FillAsync(long offset, long length, CacheObjectWriter writer, CancellationToken cancellationToken = default);
}
