using Microsoft.Extensions.Logging;

namespace Snapshotter.Fuse;

/// <summary>Log messages of the FUSE blob-file server (event ids 7000-7099).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 7000, Level = LogLevel.Information, Message = "FUSE mounted on {MountPoint}: protocol 7.{Minor} (kernel 7.{KernelMinor}), flags {Flags}, max_pages {MaxPages}, max_readahead {MaxReadahead}, passthrough {Passthrough}")]
    public static partial void Initialized(ILogger logger, string mountPoint, uint minor, uint kernelMinor, string flags, int maxPages, uint maxReadahead, bool passthrough);

    [LoggerMessage(EventId = 7001, Level = LogLevel.Information, Message = "FUSE session on {MountPoint} ended: {Reason}")]
    public static partial void SessionEnded(ILogger logger, string mountPoint, string reason);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Warning, Message = "READ of {Name} [{Offset}, +{Length}) failed: answered errno {Errno}")]
    public static partial void ReadFailed(ILogger logger, string name, long offset, int length, int errno);

    [LoggerMessage(EventId = 7015, Level = LogLevel.Error, Message = "READ of {Name}: the file returned {Returned} bytes at {Position} (size {Size}); answered EIO")]
    public static partial void ShortRead(ILogger logger, string name, long position, int returned, long size);

    [LoggerMessage(EventId = 7003, Level = LogLevel.Error, Message = "READ of {Name} [{Offset}, +{Length}) threw; answered EIO")]
    public static partial void ReadThrew(ILogger logger, Exception exception, string name, long offset, int length);

    [LoggerMessage(EventId = 7004, Level = LogLevel.Warning, Message = "reply to request {Unique} ({Opcode}) not written: {Error}")]
    public static partial void ReplyFailed(ILogger logger, ulong unique, uint opcode, string error);

    [LoggerMessage(EventId = 7005, Level = LogLevel.Warning, Message = "malformed FUSE request {Unique} (opcode {Opcode}, {Length} bytes) answered EINVAL")]
    public static partial void Malformed(ILogger logger, ulong unique, uint opcode, int length);

    [LoggerMessage(EventId = 7006, Level = LogLevel.Debug, Message = "READ {Unique} interrupted: answered EINTR")]
    public static partial void Interrupted(ILogger logger, ulong unique);

    [LoggerMessage(EventId = 7007, Level = LogLevel.Warning, Message = "passthrough for {Name} refused by the kernel ({Error}); served through READ")]
    public static partial void PassthroughRefused(ILogger logger, string name, string error);

    [LoggerMessage(EventId = 7008, Level = LogLevel.Warning, Message = "unmount of {MountPoint} busy: detached lazily (MNT_DETACH)")]
    public static partial void UnmountDetached(ILogger logger, string mountPoint);

    [LoggerMessage(EventId = 7009, Level = LogLevel.Warning, Message = "unmount of {MountPoint} failed: {Error}")]
    public static partial void UnmountFailed(ILogger logger, string mountPoint, string error);

    [LoggerMessage(EventId = 7010, Level = LogLevel.Warning, Message = "stale FUSE mount {MountPoint} ({FsType}, server gone: ENOTCONN) detached")]
    public static partial void StaleMountDetached(ILogger logger, string mountPoint, string fsType);

    [LoggerMessage(EventId = 7011, Level = LogLevel.Warning, Message = "stale FUSE mount {MountPoint} could not be detached: {Error}")]
    public static partial void StaleMountDetachFailed(ILogger logger, string mountPoint, string error);

    [LoggerMessage(EventId = 7012, Level = LogLevel.Warning, Message = "READs still in flight on {MountPoint} after the shutdown timeout: {Count}")]
    public static partial void ReadsOutstanding(ILogger logger, string mountPoint, int count);

    [LoggerMessage(EventId = 7013, Level = LogLevel.Debug, Message = "invalidation of {Name} not delivered: {Error}")]
    public static partial void InvalidateFailed(ILogger logger, string name, string error);

    [LoggerMessage(EventId = 7014, Level = LogLevel.Error, Message = "FUSE device reader on {MountPoint} failed: {Error}")]
    public static partial void ReaderFailed(ILogger logger, string mountPoint, string error);

    [LoggerMessage(EventId = 7016, Level = LogLevel.Debug, Message = "readahead of the mount not raised ({Path}): {Error}")]
    public static partial void ReadaheadNotRaised(ILogger logger, string path, string error);
}
