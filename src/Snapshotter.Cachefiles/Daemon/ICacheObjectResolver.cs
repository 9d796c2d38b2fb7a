namespace Snapshotter.Cachefiles.Daemon;

/// <summary>Finds the source of a cache object the kernel OPENs, by its fscache volume and cookie keys.</summary>
public interface ICacheObjectResolver
{
    /// <summary>
    /// Returns the source for (<paramref name="volumeKey"/>, <paramref name="cookieKey"/>), or null when nothing is
    /// registered under them (the OPEN is then refused with -ENOENT). EROFS uses volume <c>erofs,&lt;domain or fsid&gt;</c>
    /// and cookie <c>&lt;fsid&gt;</c> for the bootstrap, the device-table tag for a data blob.
    /// </summary>
    ValueTask<ICacheObjectSource?> ResolveAsync(string volumeKey, string cookieKey, CancellationToken cancellationToken = default);
}
