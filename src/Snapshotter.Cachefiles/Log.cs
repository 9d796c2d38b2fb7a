using Microsoft.Extensions.Logging;

namespace Snapshotter.Cachefiles;

/// <summary>Log messages of the on-demand cache daemon (event ids 5000-5099).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 5000, Level = LogLevel.Information, Message = "cachefiles on-demand session bound: dir {CacheDirectory}, tag {Tag}")]
    public static partial void Bound(ILogger logger, string cacheDirectory, string tag);

    [LoggerMessage(EventId = 5001, Level = LogLevel.Debug, Message = "OPEN {MessageId} object {ObjectId}: volume {VolumeKey} cookie {CookieKey} -> size {Size}")]
    public static partial void Opened(ILogger logger, uint messageId, uint objectId, string volumeKey, string cookieKey, long size);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "OPEN {MessageId}: nothing registered for volume {VolumeKey} cookie {CookieKey}; refused with ENOENT")]
    public static partial void UnknownCookie(ILogger logger, uint messageId, string volumeKey, string cookieKey);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Debug, Message = "CLOSE object {ObjectId}")]
    public static partial void Closed(ILogger logger, uint objectId);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Warning, Message = "READ {MessageId} object {ObjectId} [{Offset}, +{Length}) failed: {Error}; completed so the reader gets EIO")]
    public static partial void ReadFailed(ILogger logger, uint messageId, uint objectId, ulong offset, ulong length, string error);

    [LoggerMessage(EventId = 5005, Level = LogLevel.Error, Message = "malformed message from /dev/cachefiles ignored: {Error}")]
    public static partial void Malformed(ILogger logger, string error);

    [LoggerMessage(EventId = 5006, Level = LogLevel.Error, Message = "READ {MessageId} for unknown object {ObjectId} cannot be completed")]
    public static partial void ReadForUnknownObject(ILogger logger, uint messageId, uint objectId);

    [LoggerMessage(EventId = 5007, Level = LogLevel.Error, Message = "copen {MessageId},{Size} to the device failed: {Error}")]
    public static partial void CopenFailed(ILogger logger, uint messageId, long size, string error);

    [LoggerMessage(EventId = 5008, Level = LogLevel.Error, Message = "OPEN {MessageId}: resolving volume {VolumeKey} cookie {CookieKey} failed")]
    public static partial void ResolveFailed(ILogger logger, uint messageId, string volumeKey, string cookieKey, Exception exception);

    [LoggerMessage(EventId = 5009, Level = LogLevel.Trace, Message = "READ {MessageId} object {ObjectId} [{Offset}, +{Length})")]
    public static partial void Read(ILogger logger, uint messageId, uint objectId, ulong offset, ulong length);

    [LoggerMessage(EventId = 5010, Level = LogLevel.Information, Message = "prefetch finished: {Fetched} stored bytes fetched, {Present} of {Size} bytes present")]
    public static partial void PrefetchDone(ILogger logger, long fetched, long present, long size);

    [LoggerMessage(EventId = 5011, Level = LogLevel.Warning, Message = "prefetch stopped: {Error}; reads fetch on demand")]
    public static partial void PrefetchFailed(ILogger logger, string error);

    [LoggerMessage(EventId = 5012, Level = LogLevel.Information, Message = "mounted {Reference} at {MountPoint} (fsid {Fsid}, {Blobs} data blobs)")]
    public static partial void MountedImage(ILogger logger, string reference, string mountPoint, string fsid, int blobs);

    [LoggerMessage(EventId = 5013, Level = LogLevel.Warning, Message = "unmount of {MountPoint} failed ({Error}); detached instead")]
    public static partial void UnmountDetached(ILogger logger, string mountPoint, string error);

    [LoggerMessage(EventId = 5014, Level = LogLevel.Error, Message = "poll on the cachefiles device failed ({Error}); the session ends")]
    public static partial void PollFailed(ILogger logger, string error);

    [LoggerMessage(EventId = 5015, Level = LogLevel.Error, Message = "read from the cachefiles device failed: {Error}")]
    public static partial void DeviceReadFailed(ILogger logger, string error);

    [LoggerMessage(EventId = 5016, Level = LogLevel.Warning, Message = "FD_CLOEXEC on object fd {Fd} failed: {Error}; child processes may pin the cache")]
    public static partial void CloseOnExecFailed(ILogger logger, int fd, string error);

    [LoggerMessage(EventId = 5017, Level = LogLevel.Error, Message = "READ_COMPLETE {MessageId} failed: {Error}")]
    public static partial void ReadCompleteFailed(ILogger logger, uint messageId, string error);
}
