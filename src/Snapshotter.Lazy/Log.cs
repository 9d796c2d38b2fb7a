using Microsoft.Extensions.Logging;

namespace Snapshotter.Lazy;

/// <summary>Log messages of the lazy-image component (event ids 6000-6099).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 6000, Level = LogLevel.Information, Message = "lazy images are served in {Mode} mode: {Reason}")]
    public static partial void ModeChosen(ILogger logger, string mode, string reason);

    [LoggerMessage(EventId = 6001, Level = LogLevel.Warning, Message = "lazy mode {Mode} is not available: {Reason}")]
    public static partial void ModeUnavailable(ILogger logger, string mode, string reason);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Warning, Message = "mounting {ImageRef} in {Mode} mode failed ({Error}); falling back to {Fallback}")]
    public static partial void MountFallback(ILogger logger, string imageRef, string mode, string error, string fallback);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Information, Message = "downloaded blob {Digest}: {Stored} stored bytes, {Size} bytes uncompressed, in {Milliseconds:0} ms")]
    public static partial void BlobDownloaded(ILogger logger, string digest, long stored, long size, double milliseconds);

    [LoggerMessage(EventId = 6004, Level = LogLevel.Warning, Message = "chunk table of blob {Digest} unavailable ({Error}); the read gets EIO and the next one retries")]
    public static partial void ChunkTableFailed(ILogger logger, string digest, string error);

    [LoggerMessage(EventId = 6005, Level = LogLevel.Information, Message = "detached {Count} stale mount(s) at {MountPoint}")]
    public static partial void StaleDetached(ILogger logger, int count, string mountPoint);

    [LoggerMessage(EventId = 6006, Level = LogLevel.Information, Message = "pruned {Count} cached blob file(s) no snapshot references")]
    public static partial void Pruned(ILogger logger, int count);

    [LoggerMessage(EventId = 6007, Level = LogLevel.Debug, Message = "mounted {ImageRef} at {MountPoint} in {Mode} mode ({Blobs} blobs)")]
    public static partial void Mounted(ILogger logger, string imageRef, string mountPoint, string mode, int blobs);

    [LoggerMessage(EventId = 6008, Level = LogLevel.Information, Message = "EROFS from regular files: {Result}")]
    public static partial void FileBackedProbe(ILogger logger, string result);

    [LoggerMessage(EventId = 6009, Level = LogLevel.Warning, Message = "unmounting {MountPoint} failed: {Error}")]
    public static partial void UnmountFailed(ILogger logger, string mountPoint, string error);

    [LoggerMessage(EventId = 6010, Level = LogLevel.Information, Message = "EROFS refused -o directio ({Error}); fuse-mode images are mounted with buffered reads of the blob files")]
    public static partial void ErofsDirectIoUnsupported(ILogger logger, string error);

    [LoggerMessage(EventId = 6011, Level = LogLevel.Warning, Message = "EROFS domain {Domain} is still held by a mount of an earlier run (a container kept running across the restart); this run mounts in domain {Fresh} with a cold cache")]
    public static partial void StaleDomain(ILogger logger, string domain, string fresh);

    [LoggerMessage(EventId = 6012, Level = LogLevel.Information, Message = "deleted {Count} cache directory(ies) of earlier runs' fresh EROFS domains")]
    public static partial void FreshDomainsDeleted(ILogger logger, int count);

    [LoggerMessage(EventId = 6013, Level = LogLevel.Debug, Message = "chunk table of blob {Digest} not read at mount ({Error}); its first read tries again")]
    public static partial void ChunkTableNotPreloaded(ILogger logger, string digest, string error);

    [LoggerMessage(EventId = 6014, Level = LogLevel.Debug, Message = "early resolution of blob {Digest} of {ImageRef} failed ({Error}); its Prepare asks again")]
    public static partial void AnticipationFailed(ILogger logger, string digest, string imageRef, string error);
}
