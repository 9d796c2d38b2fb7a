using Snapshotter.Core.Snapshots;

namespace Snapshotter.Core.Metadata;

/// <summary>One row of the snapshots table with its labels.</summary>
/// <param name="Id">Stable id; names the snapshot's directory and never changes, not even on commit.</param>
/// <param name="ParentId">The parent's id, or null for a base snapshot.</param>
/// <param name="Parent">The parent's name, or empty.</param>
/// <param name="Size">Bytes used, stored at commit (0 for active and view snapshots).</param>
/// <param name="Inodes">Inodes used, stored at commit (0 for active and view snapshots).</param>
internal sealed record SnapshotRecord(
    long Id,
    string Name,
    long? ParentId,
    string Parent,
    SnapshotKind Kind,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    long Size,
    long Inodes,
    IReadOnlyDictionary<string, string> Labels)
{
    public SnapshotInfo ToInfo() => new(Name, Parent, Kind, CreatedAt, UpdatedAt, Labels);
}
