using Microsoft.Extensions.Logging;

namespace Snapshotter.Core;

/// <summary>Log messages of Snapshotter.Core (event ids 2000-2099).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 2000, Level = LogLevel.Information, Message = "Snapshot store opened at {Root}")]
    public static partial void StoreOpened(ILogger logger, string root);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Metadata schema migrated from version {From} to {To}")]
    public static partial void SchemaMigrated(ILogger logger, int from, int to);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Debug, Message = "Created {Kind} snapshot {Key} (id {Id}) on parent {Parent}")]
    public static partial void SnapshotCreated(ILogger logger, Snapshots.SnapshotKind kind, string key, long id, string parent);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Debug, Message = "Committed snapshot {Key} as {Name} (id {Id}, {Size} bytes, {Inodes} inodes)")]
    public static partial void SnapshotCommitted(ILogger logger, string key, string name, long id, long size, long inodes);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Debug, Message = "Removed snapshot {Key} (id {Id})")]
    public static partial void SnapshotRemoved(ILogger logger, string key, long id);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Warning, Message = "Could not delete directory {Path}; cleanup will retry")]
    public static partial void DirectoryDeleteFailed(ILogger logger, string path, Exception exception);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Information, Message = "Cleanup removed unowned directory {Path}")]
    public static partial void OrphanRemoved(ILogger logger, string path);

    [LoggerMessage(EventId = 2010, Level = LogLevel.Information, Message = "Committed layer {Target} remotely (id {Id}): blob {Digest} of {ImageRef} is read lazily")]
    public static partial void RemoteCommitted(ILogger logger, string target, long id, string digest, string imageRef);

    [LoggerMessage(EventId = 2011, Level = LogLevel.Warning, Message = "Layer {Target} looks lazy but is unpacked the ordinary way ({Reason}): {Why}")]
    public static partial void RemoteFallback(ILogger logger, string target, Remote.FallbackReason reason, string why);

    [LoggerMessage(EventId = 2012, Level = LogLevel.Information, Message = "Mounted lazy image {ImageRef} at {MountPoint} ({Mode}, {Blobs} data blobs)")]
    public static partial void LazyMounted(ILogger logger, string imageRef, string mountPoint, string mode, int blobs);

    [LoggerMessage(EventId = 2013, Level = LogLevel.Information, Message = "Unmounted lazy image at {MountPoint}: no container uses it")]
    public static partial void LazyUnmounted(ILogger logger, string mountPoint);

    [LoggerMessage(EventId = 2014, Level = LogLevel.Warning, Message = "Lazy mount {MountPoint} left by an earlier run is kept: lazy pulling is off, so nothing can serve or detach it")]
    public static partial void StaleLazyMountKept(ILogger logger, string mountPoint);

    [LoggerMessage(EventId = 2015, Level = LogLevel.Warning, Message = "Mounting the lazy image for {Key} failed; the snapshot is removed again")]
    public static partial void LazyMountFailed(ILogger logger, string key, Exception exception);

    [LoggerMessage(EventId = 2016, Level = LogLevel.Information, Message = "Committed bootstrap layer {Target} remotely (id {Id}): {Digest} of {ImageRef} fetched by the snapshotter, {Size} bytes")]
    public static partial void RemoteBootstrapCommitted(ILogger logger, string target, long id, string digest, string imageRef, long size);

    [LoggerMessage(EventId = 2017, Level = LogLevel.Information, Message = "Bootstrap layer {Target} is left to containerd to unpack: {Why}")]
    public static partial void RemoteBootstrapDeclined(ILogger logger, string target, string why);
}
