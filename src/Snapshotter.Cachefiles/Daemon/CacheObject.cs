namespace Snapshotter.Cachefiles.Daemon;

/// <summary>One object the kernel opened: its anonymous fd (owned here) and where its bytes come from.</summary>
internal sealed class CacheObject(uint objectId, string volumeKey, string cookieKey, SafeFdHandle fd, ICacheObjectSource source)
{
    public uint ObjectId { get; } = objectId;

    public string VolumeKey { get; } = volumeKey;

    public string CookieKey { get; } = cookieKey;

    /// <summary>The anonymous fd; a SafeHandle, so a CLOSE racing an in-flight READ defers the real close.</summary>
    public SafeFdHandle Fd { get; } = fd;

    public ICacheObjectSource Source { get; } = source;

    public CacheObjectWriter Writer { get; } = new(fd, source.Size);
}
