namespace Snapshotter.Core.Snapshots;

/// <summary>
/// The snapshotter contract, with containerd's semantics (core/snapshots/snapshotter.go).
/// Keys arrive already namespaced by containerd. Every method throws
/// <see cref="SnapshotterException"/> with a meaningful <see cref="ErrorKind"/> for expected failures.
/// </summary>
internal interface ISnapshotter : IAsyncDisposable
{
    /// <summary>Returns the info of the snapshot <paramref name="key"/> (active, view or committed). NotFound when absent.</summary>
    ValueTask<SnapshotInfo> StatAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Updates the mutable fields of <paramref name="info"/>.Name. <paramref name="fieldPaths"/> are the update-mask
    /// paths: <c>labels</c> replaces all labels, <c>labels.&lt;key&gt;</c> sets one (an empty value deletes it);
    /// an empty list means <c>labels</c>. Other paths are InvalidArgument. Returns the updated info.
    /// </summary>
    ValueTask<SnapshotInfo> UpdateAsync(SnapshotInfo info, IReadOnlyList<string> fieldPaths, CancellationToken cancellationToken = default);

    /// <summary>Bytes and inodes used on disk by this snapshot's own layer (not its parents).</summary>
    ValueTask<SnapshotUsage> UsageAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>The mounts of an active or view snapshot. NotFound when absent; FailedPrecondition for committed ones.</summary>
    ValueTask<IReadOnlyList<Mount>> MountsAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Creates an active (writable) snapshot <paramref name="key"/> on top of the committed snapshot
    /// <paramref name="parent"/> (empty: none). AlreadyExists when the key is taken; NotFound when the parent is
    /// absent; InvalidArgument/FailedPrecondition when the parent is not committed.
    /// </summary>
    ValueTask<IReadOnlyList<Mount>> PrepareAsync(string key, string parent, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken = default);

    /// <summary>Like <see cref="PrepareAsync"/> but the snapshot is a read-only view.</summary>
    ValueTask<IReadOnlyList<Mount>> ViewAsync(string key, string parent, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken = default);

    /// <summary>
    /// Turns the active snapshot <paramref name="key"/> into the committed snapshot <paramref name="name"/>
    /// with <paramref name="labels"/> (replacing the active snapshot's labels). The key stops existing.
    /// </summary>
    ValueTask CommitAsync(string name, string key, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken = default);

    /// <summary>Removes a snapshot. FailedPrecondition when other snapshots have it as parent.</summary>
    ValueTask RemoveAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Enumerates every snapshot matching <paramref name="filter"/>.</summary>
    IAsyncEnumerable<SnapshotInfo> WalkAsync(SnapshotFilter filter, CancellationToken cancellationToken = default);

    /// <summary>Removes on-disk state that no snapshot owns (left by crashes or failed removals).</summary>
    ValueTask CleanupAsync(CancellationToken cancellationToken = default);
}
