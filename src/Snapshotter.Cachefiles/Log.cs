using Microsoft.Extensions.Logging;

namespace Snapshotter.Cachefiles;

/// <summary>Log messages of the on-demand cache daemon (event ids 3000-3099).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "cachefiles on-demand session bound: dir {CacheDirectory}, tag {Tag}")]
    public static partial void Bound(ILogger logger, string cacheDirectory, string tag);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Debug, Message = "OPEN {MessageId} object {ObjectId}: volume {VolumeKey} cookie {CookieKey} -> size {Size}")]
    public static partial void Opened(ILogger logger, uint messageId, uint objectId, string volumeKey, string cookieKey, long size);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "OPEN {MessageId}: nothing registered for volume {VolumeKey} cookie {CookieKey}; refused with ENOENT")]
    public static partial void UnknownCookie(ILogger logger, uint messageId, string volumeKey, string cookieKey);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Debug, Message = "CLOSE object {ObjectId}")]
    public static partial void Closed(ILogger logger, uint objectId);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "READ {MessageId} object {ObjectId} [{Offset}, +{Length}) failed: {Error}; completed so the reader gets EIO")]
    public static partial void ReadFailed(ILogger logger, uint messageId, uint objectId, ulong offset, ulong length, string error);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Error, Message = "malformed message from /dev/cachefiles ignored: {Error}")]
    public static partial void Malformed(ILogger logger, string error);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Error, Message = "READ {MessageId} for unknown object {ObjectId} cannot be completed")]
    public static partial void ReadForUnknownObject(ILogger logger, uint messageId, uint objectId);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Error, Message = "reply to the kernel failed: {Error}")]
    public static partial void ReplyFailed(ILogger logger, string error);

    [LoggerMessage(EventId = 3008, Level = LogLevel.Error, Message = "OPEN {MessageId}: resolving volume {VolumeKey} cookie {CookieKey} failed")]
    public static partial void ResolveFailed(ILogger logger, uint messageId, string volumeKey, string cookieKey, Exception exception);

    [LoggerMessage(EventId = 3009, Level = LogLevel.Trace, Message = "READ {MessageId} object {ObjectId} [{Offset}, +{Length})")]
    public static partial void Read(ILogger logger, uint messageId, uint objectId, ulong offset, ulong length);

    [LoggerMessage(EventId = 3010, Level = LogLevel.Information, Message = "prefetch finished: {Fetched} stored bytes fetched, {Present} of {Size} bytes present")]
    public static partial void PrefetchDone(ILogger logger, long fetched, long present, long size);

    [LoggerMessage(EventId = 3011, Level = LogLevel.Warning, Message = "prefetch stopped: {Error}; reads fetch on demand")]
    public static partial void PrefetchFailed(ILogger logger, string error);

    [LoggerMessage(EventId = 3012, Level = LogLevel.Information, Message = "mounted {Reference} at {MountPoint} (fsid {Fsid}, {Blobs} data blobs)")]
    public static partial void MountedImage(ILogger logger, string reference, string mountPoint, string fsid, int blobs);

    [LoggerMessage(EventId = 3013, Level = LogLevel.Warning, Message = "unmount of {MountPoint} failed ({Error}); detached instead")]
    public static partial void UnmountDetached(ILogger logger, string mountPoint, string error);
}
