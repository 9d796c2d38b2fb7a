namespace Snapshotter.Core.Snapshots;

/// <summary>The kind of a snapshot, numbered as containerd's <c>snapshots.Kind</c> on the wire.</summary>
internal enum SnapshotKind
{
    Unknown = 0,
    View = 1,
    Active = 2,
    Committed = 3,
}
