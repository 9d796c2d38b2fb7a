using System.Collections.Concurrent;
using System.Globalization;
using Snapshotter.Core.Metadata;
using Snapshotter.Core.Remote;
using Snapshotter.Core.Snapshots;

namespace Snapshotter.Core.Overlay;

/// <summary>
/// containerd's remote-snapshot path for lazily pulled images (shared/reference/containerd.md):
/// <list type="bullet">
/// <item>a data-blob layer's Prepare commits a snapshot named after <c>containerd.io/snapshot.ref</c> without any
/// download and answers AlreadyExists; a layer that cannot be resolved falls back to the ordinary unpack;</item>
/// <item>the bootstrap layer's Prepare, on remotely committed data blobs, fetches and checks the bootstrap itself and
/// answers AlreadyExists (OverlaySnapshotter.RemoteBootstrap.cs); otherwise containerd unpacks it as usual and its Commit
/// checks the bootstrap;</item>
/// <item>a Prepare or View whose parent chain holds the bootstrap gets overlay mounts whose lowest layer is the image's
/// lazy mount (<c>&lt;root&gt;/mounts/&lt;bootstrap id&gt;</c>), mounted once and shared by every container of the image,
/// unmounted when the last active or view snapshot on it is removed.</item>
/// </list>
/// </summary>
internal sealed partial class OverlaySnapshotter
{
    private readonly IRemoteFileSystem? _remote;
    private readonly string _mountsDir;
    private readonly ConcurrentDictionary<long, SemaphoreSlim> _mountLocks = new();

    /// <summary>Counters of the remote-snapshot path (remote commits, fallbacks, lazy mounts).</summary>
    public RemoteStatistics RemoteStatistics { get; }

    private string MountPointOf(long bootstrapId) => Path.Combine(_mountsDir, bootstrapId.ToString(CultureInfo.InvariantCulture));

    private async ValueTask<IReadOnlyList<Mount>> PrepareOrViewAsync(SnapshotKind kind, string key, string parent, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken)
    {
        labels ??= new Dictionary<string, string>();
        parent ??= string.Empty;
        if (kind == SnapshotKind.Active && RemoteLabels.IsDataBlob(labels))
        {
            if (await TryCommitRemoteAsync(key, parent, labels, cancellationToken).ConfigureAwait(false) is { } target)
            {
                throw SnapshotterException.AlreadyExists($"target snapshot {target}: already exists (committed remotely: its data is read lazily)");
            }
        }
        else if (kind == SnapshotKind.Active && RemoteLabels.IsBootstrap(labels)
            && await TryCommitRemoteBootstrapAsync(key, parent, labels, cancellationToken).ConfigureAwait(false) is { } bootstrap)
        {
            throw SnapshotterException.AlreadyExists($"target snapshot {bootstrap}: already exists (bootstrap fetched by the snapshotter)");
        }

        return await CreateAsync(kind, key, parent, labels, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Commits the data-blob layer of <paramref name="labels"/> remotely. Returns the target name when the layer is (now)
    /// committed, or null when the caller must unpack it the ordinary way (logged and counted).
    /// </summary>
    private async ValueTask<string?> TryCommitRemoteAsync(string key, string parent, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken)
    {
        // Never answer AlreadyExists without the target label: containerd could not find the snapshot.
        if (RemoteLabels.Target(labels) is not { } target)
        {
            return Fallback(FallbackReason.MissingLabels, key, "no containerd.io/snapshot.ref label");
        }

        if (_remote is null)
        {
            return Fallback(FallbackReason.Disabled, target, "lazy pulling is off");
        }

        if (RemoteLabels.ImageRef(labels) is not { } imageRef || RemoteLabels.LayerDigest(labels) is not { } digest)
        {
            return Fallback(FallbackReason.MissingLabels, target,
                $"no image reference ({RemoteLabels.CriImageRef} or {RemoteLabels.StargzReference}) or layer digest label; pull with CRI (disable_snapshot_annotations = false) or ctr-remote images rpull");
        }

        ValidateName(key, "key");
        SnapshotLabels.Validate(labels);

        // Another namespace may have pulled the same image: containerd then finds this snapshot with List and links it.
        var existing = await _store.ReadAsync(tx => tx.Find(target), cancellationToken).ConfigureAwait(false);
        if (existing is not null)
        {
            return IsSameTarget(existing, parent) ? target : Fallback(FallbackReason.NameConflict, target, $"a snapshot of that name exists on parent '{existing.Parent}'");
        }

        // Only a layer that is resolved here announces the layers after it (a second namespace's pull resolves nothing).
        AnticipateLayers(labels);
        RemoteLayer layer;
        try
        {
            layer = await _remote.ResolveLayerAsync(imageRef, digest, cancellationToken).ConfigureAwait(false);
        }
        catch (SnapshotterException e) when (!cancellationToken.IsCancellationRequested)
        {
            return Fallback(FallbackReason.Unresolvable, target, e.Message);
        }

        var row = new RemoteLayerRecord(0, RemoteLayerKind.DataBlob, imageRef, layer.Digest, layer.Size);
        var (outcome, id) = await _store.WriteAsync(tx => InsertRemoteLayer(tx, target, parent, labels, row, DateTimeOffset.UtcNow), cancellationToken)
            .ConfigureAwait(false);

        switch (outcome)
        {
            case RemoteCommitOutcome.Committed:
                RemoteStatistics.RecordRemoteCommit();
                Log.RemoteCommitted(_logger, target, id, layer.Digest, imageRef);
                return target;
            case RemoteCommitOutcome.Exists:
                return target;
            case RemoteCommitOutcome.Conflict:
                return Fallback(FallbackReason.NameConflict, target, "a snapshot of that name exists on another parent");
            default:
                return null;
        }
    }

    /// <summary>
    /// Inserts the committed snapshot <paramref name="target"/> on <paramref name="parent"/> with its remote row and an
    /// empty layer directory (so that layers stacked on it mount as usual), unless the name was taken meanwhile or the
    /// parent is missing or not committed (the ordinary path then reports it with the right error).
    /// </summary>
    private (RemoteCommitOutcome Outcome, long Id) InsertRemoteLayer(
        MetadataTransaction tx, string target, string parent, IReadOnlyDictionary<string, string> labels, RemoteLayerRecord row, DateTimeOffset now)
    {
        if (tx.Find(target) is { } raced)
        {
            return (IsSameTarget(raced, parent) ? RemoteCommitOutcome.Exists : RemoteCommitOutcome.Conflict, raced.Id);
        }

        long? parentId = null;
        IReadOnlyList<long> parents = [];
        if (parent.Length > 0)
        {
            if (tx.Find(parent) is not { Kind: SnapshotKind.Committed } p)
            {
                return (RemoteCommitOutcome.ParentInvalid, 0L);
            }

            parentId = p.Id;
            parents = tx.GetChain(p.Id);
        }

        var newId = tx.Insert(target, parentId, SnapshotKind.Committed, labels, now);
        tx.InsertRemote(row with { SnapshotId = newId });
        var dir = SnapshotPath(newId);
        tx.OnRollback(() => DirectoryTree.Delete(dir));
        DirectoryTree.Delete(dir);
        CreateDirectories(newId, SnapshotKind.Committed, parents);
        return (RemoteCommitOutcome.Committed, newId);
    }

    /// <summary>The data blobs of the chain <paramref name="parentId"/> stands on (itself included), lowest layer first.</summary>
    private static List<RemoteLayer> RemoteLayersBelow(MetadataTransaction tx, long parentId) =>
        CollectLayers(tx.RemoteLayersOfChain(parentId), tx.GetChain(parentId), 0);

    private static bool IsSameTarget(SnapshotRecord existing, string parent) =>
        existing.Kind == SnapshotKind.Committed && existing.Parent == parent;

    private string? Fallback(FallbackReason reason, string what, string why)
    {
        RemoteStatistics.RecordFallback(reason);
        Log.RemoteFallback(_logger, what, reason, why);
        return null;
    }

    /// <summary>
    /// The lazy image <paramref name="parents"/> (nearest first) stand on, or null: the nearest bootstrap snapshot with
    /// remotely committed data blobs below it. Layers below the bootstrap are inside it; layers above are ordinary.
    /// </summary>
    private LazyChain? FindLazyChain(MetadataTransaction tx, IReadOnlyList<long> parents)
    {
        if (parents.Count == 0)
        {
            return null;
        }

        var rows = tx.RemoteLayersOfChain(parents[0]);
        if (rows.Count == 0)
        {
            return null;
        }

        for (var i = 0; i < parents.Count; i++)
        {
            if (rows.TryGetValue(parents[i], out var row) && row.Kind == RemoteLayerKind.Bootstrap)
            {
                var layers = CollectLayers(rows, parents, i + 1);
                if (layers.Count == 0)
                {
                    // Labelled like a bootstrap, but its layers were unpacked the ordinary way: an ordinary image.
                    return null;
                }

                var imageRef = row.ImageRef.Length > 0 ? row.ImageRef : layers[^1].ImageRef;
                return new LazyChain(i, parents[i], new RemoteImage(imageRef, BootstrapFileOf(parents[i]), layers));
            }
        }

        return null;
    }

    /// <summary>The data blobs among <paramref name="parents"/>[<paramref name="from"/>..], lowest layer first.</summary>
    private static List<RemoteLayer> CollectLayers(Dictionary<long, RemoteLayerRecord> rows, IReadOnlyList<long> parents, int from)
    {
        var layers = new List<RemoteLayer>();
        for (var j = parents.Count - 1; j >= from; j--)
        {
            if (rows.TryGetValue(parents[j], out var blob) && blob.Kind == RemoteLayerKind.DataBlob)
            {
                layers.Add(new RemoteLayer(blob.ImageRef, blob.Digest, blob.Size));
            }
        }

        return layers;
    }

    private string BootstrapFileOf(long id) => Path.Combine(FsPath(id), RemoteLabels.BootstrapPath);

    /// <summary>Mounts for snapshot <paramref name="id"/>; on a lazy image, mounts the image first (once).</summary>
    private async ValueTask<IReadOnlyList<Mount>> BuildMountsAsync(long id, SnapshotKind kind, IReadOnlyList<long> parents, LazyChain? lazy, CancellationToken cancellationToken)
    {
        if (lazy is null)
        {
            return BuildMounts(id, kind, parents.Select(FsPath).ToArray());
        }

        var lower = new List<string>(lazy.Index + 1);
        for (var i = 0; i < lazy.Index; i++)
        {
            lower.Add(FsPath(parents[i]));
        }

        lower.Add(await EnsureLazyMountAsync(lazy, cancellationToken).ConfigureAwait(false));
        return BuildMounts(id, kind, lower);
    }

    private async ValueTask<string> EnsureLazyMountAsync(LazyChain lazy, CancellationToken cancellationToken)
    {
        if (_remote is null)
        {
            throw SnapshotterException.FailedPrecondition(
                $"image {lazy.Image.ImageRef} was pulled lazily, but lazy pulling is off (lazy_mode = off): its layers have no local data");
        }

        var mountPoint = MountPointOf(lazy.BootstrapId);
        var gate = _mountLocks.GetOrAdd(lazy.BootstrapId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_remote.IsMounted(mountPoint))
            {
                return mountPoint;
            }

            Directory.CreateDirectory(_mountsDir);
            Directory.CreateDirectory(mountPoint);
            await _remote.MountAsync(lazy.Image, mountPoint, cancellationToken).ConfigureAwait(false);
            RemoteStatistics.RecordMounted();
            Log.LazyMounted(_logger, lazy.Image.ImageRef, mountPoint, _remote.Mode, lazy.Image.Layers.Count);
            return mountPoint;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Unmounts the lazy image of <paramref name="bootstrapId"/> when no active or view snapshot needs it any more.</summary>
    private async ValueTask ReleaseLazyMountAsync(long bootstrapId, CancellationToken cancellationToken)
    {
        if (_remote is null)
        {
            return;
        }

        var mountPoint = MountPointOf(bootstrapId);
        var gate = _mountLocks.GetOrAdd(bootstrapId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            if (!_remote.IsMounted(mountPoint)
                || await _store.ReadAsync(tx => tx.HasActiveDescendants(bootstrapId), cancellationToken).ConfigureAwait(false))
            {
                return;
            }

            await UnmountLazyAsync(mountPoint).ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }
    }

    private async ValueTask UnmountLazyAsync(string mountPoint)
    {
        // Not cancellable: a half-done unmount would leave a registration without a mount or the reverse.
        await _remote!.UnmountAsync(mountPoint, CancellationToken.None).ConfigureAwait(false);
        RemoteStatistics.RecordUnmounted();
        Log.LazyUnmounted(_logger, mountPoint);
        RemoveMountDirectory(mountPoint);
    }

    private void RemoveMountDirectory(string mountPoint)
    {
        try
        {
            // Never recursive: if something is still mounted there, its contents are not ours to delete.
            Directory.Delete(mountPoint);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.DirectoryDeleteFailed(_logger, mountPoint, e);
        }
    }

    /// <summary>
    /// Checks the bootstrap that containerd just unpacked into active snapshot <paramref name="active"/>, before it is
    /// committed: a broken lazy image fails its pull with a clear error instead of failing every container later.
    /// </summary>
    private async ValueTask ValidateBootstrapAsync(SnapshotRecord active, CancellationToken cancellationToken)
    {
        if (_remote is null || active.ParentId is not { } parentId)
        {
            return;
        }

        var (row, layers) = await _store.ReadAsync(tx =>
        {
            var r = tx.FindRemote(active.Id);
            if (r is not { Kind: RemoteLayerKind.Bootstrap })
            {
                return (r, new List<RemoteLayer>());
            }

            return (r, RemoteLayersBelow(tx, parentId));
        }, cancellationToken).ConfigureAwait(false);
        if (row is not { Kind: RemoteLayerKind.Bootstrap } || layers.Count == 0)
        {
            return;
        }

        var imageRef = row.ImageRef.Length > 0 ? row.ImageRef : layers[^1].ImageRef;
        var path = BootstrapFileOf(active.Id);
        if (!File.Exists(path))
        {
            throw SnapshotterException.FailedPrecondition($"image {imageRef}: the bootstrap layer has no {RemoteLabels.BootstrapPath}");
        }

        await _remote.ValidateAsync(new RemoteImage(imageRef, path, layers), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Detaches lazy mounts an earlier run left (their daemon is gone); they are mounted again on first use.</summary>
    private async ValueTask DetachStaleMountsAsync(CancellationToken cancellationToken)
    {
        if (!Directory.Exists(_mountsDir))
        {
            return;
        }

        foreach (var dir in Directory.EnumerateDirectories(_mountsDir))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_remote is null)
            {
                Log.StaleLazyMountKept(_logger, dir);
                continue;
            }

            await _remote.UnmountAsync(dir, CancellationToken.None).ConfigureAwait(false);
            RemoveMountDirectory(dir);
        }
    }

    /// <summary>Cleanup's share of the remote path: lazy mounts nobody uses, and cached blobs no snapshot references.</summary>
    private async ValueTask CleanupRemoteAsync(CancellationToken cancellationToken)
    {
        if (_remote is null)
        {
            return;
        }

        if (Directory.Exists(_mountsDir))
        {
            foreach (var dir in Directory.EnumerateDirectories(_mountsDir))
            {
                if (!long.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                {
                    await _remote.UnmountAsync(dir, CancellationToken.None).ConfigureAwait(false);
                    RemoveMountDirectory(dir);
                    continue;
                }

                if (_remote.IsMounted(dir))
                {
                    await ReleaseLazyMountAsync(id, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                // Under the image's lock: a Prepare may be creating this directory and mounting into it right now.
                var gate = _mountLocks.GetOrAdd(id, _ => new SemaphoreSlim(1, 1));
                await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    if (!_remote.IsMounted(dir))
                    {
                        await _remote.UnmountAsync(dir, CancellationToken.None).ConfigureAwait(false);
                        RemoveMountDirectory(dir);
                    }
                }
                finally
                {
                    gate.Release();
                }
            }
        }

        var live = await _store.ReadAsync(tx => tx.LiveRemoteDigests(), cancellationToken).ConfigureAwait(false);
        await _remote.PruneAsync(live, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask UnmountAllAsync()
    {
        if (_remote is null || !Directory.Exists(_mountsDir))
        {
            return;
        }

        foreach (var dir in Directory.EnumerateDirectories(_mountsDir))
        {
            if (_remote.IsMounted(dir))
            {
                await UnmountLazyAsync(dir).ConfigureAwait(false);
            }
        }
    }
}
