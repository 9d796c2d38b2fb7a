namespace Snapshotter.Core.Snapshots;

/// <summary>What containerd knows about one snapshot (its <c>snapshots.Info</c>).</summary>
/// <param name="Name">The key of an active/view snapshot, or the name of a committed one.</param>
/// <param name="Parent">The parent's name, or the empty string for a base snapshot.</param>
/// <param name="Kind">Active, view or committed.</param>
/// <param name="CreatedAt">When the snapshot was created (UTC).</param>
/// <param name="UpdatedAt">When it was last changed: committed, or labels updated (UTC).</param>
/// <param name="Labels">Arbitrary labels; never null.</param>
internal sealed record SnapshotInfo(
    string Name,
    string Parent,
    SnapshotKind Kind,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    IReadOnlyDictionary<string, string> Labels);
