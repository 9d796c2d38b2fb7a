namespace Snapshotter.Core.Snapshots;

/// <summary>Disk usage of one snapshot's own layer: bytes and inodes actually used on disk.</summary>
internal readonly record struct SnapshotUsage(long Size, long Inodes);
