using Microsoft.Extensions.Logging;

namespace Snapshotter.Core;

/// <summary>Log messages of Snapshotter.Core (event ids 1000-1099).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Snapshot store opened at {Root}")]
    public static partial void StoreOpened(ILogger logger, string root);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Metadata schema migrated from version {From} to {To}")]
    public static partial void SchemaMigrated(ILogger logger, int from, int to);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Debug, Message = "Created {Kind} snapshot {Key} (id {Id}) on parent {Parent}")]
    public static partial void SnapshotCreated(ILogger logger, Snapshots.SnapshotKind kind, string key, long id, string parent);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Debug, Message = "Committed snapshot {Key} as {Name} (id {Id}, {Size} bytes, {Inodes} inodes)")]
    public static partial void SnapshotCommitted(ILogger logger, string key, string name, long id, long size, long inodes);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Debug, Message = "Removed snapshot {Key} (id {Id})")]
    public static partial void SnapshotRemoved(ILogger logger, string key, long id);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Warning, Message = "Could not delete directory {Path}; cleanup will retry")]
    public static partial void DirectoryDeleteFailed(ILogger logger, string path, Exception exception);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Information, Message = "Cleanup removed unowned directory {Path}")]
    public static partial void OrphanRemoved(ILogger logger, string path);
}
