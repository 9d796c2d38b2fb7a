using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Snapshotter.Core.Interop;
using Snapshotter.Core.Metadata;
using Snapshotter.Core.Remote;
using Snapshotter.Core.Snapshots;

namespace Snapshotter.Core.Overlay;

/// <summary>
/// An overlayfs snapshotter with containerd's semantics (containerd <c>snapshots/overlay</c>). Layout:
/// <c>&lt;root&gt;/metadata.db</c> and <c>&lt;root&gt;/snapshots/&lt;id&gt;/fs</c> (+ <c>work</c> for active snapshots),
/// where the id is the metadata row id, stable across commit. With an <see cref="IRemoteFileSystem"/> it also takes
/// containerd's remote-snapshot path for lazily pulled images (<see cref="OverlaySnapshotter"/>.Remote.cs).
/// </summary>
internal sealed partial class OverlaySnapshotter : ISnapshotter
{
    private const int WalkBatchSize = 100;
    private const int MaxStatCacheEntries = 4096;
    private const string RemovingPrefix = "rm-";
    private const uint Mode0700 = 0x1C0;
    private const uint Mode0755 = 0x1ED;

    private readonly MetadataStore _store;
    private readonly ILogger _logger;
    private readonly string _snapshotsDir;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (long Version, SnapshotInfo Info)> _statCache = new(StringComparer.Ordinal);

    private OverlaySnapshotter(string root, MetadataStore store, ILogger logger, IRemoteFileSystem? remote, RemoteStatistics statistics)
    {
        RemoteStatistics = statistics;
        Root = root;
        _store = store;
        _logger = logger;
        _snapshotsDir = Path.Combine(root, "snapshots");
        _remote = remote;
        _mountsDir = Path.Combine(root, "mounts");
    }

    /// <summary>The root directory holding <c>metadata.db</c> and <c>snapshots/</c>.</summary>
    public string Root { get; }

    /// <summary>
    /// Opens the snapshotter rooted at <paramref name="root"/>, creating the directory and the metadata store
    /// as needed. Existing snapshots are kept; call <see cref="CleanupAsync"/> to remove crash leftovers.
    /// </summary>
    public static Task<OverlaySnapshotter> OpenAsync(string root, ILoggerFactory loggerFactory, CancellationToken cancellationToken = default) =>
        OpenAsync(root, loggerFactory, remote: null, statistics: null, cancellationToken);

    /// <summary>
    /// Like <see cref="OpenAsync(string, ILoggerFactory, CancellationToken)"/>, serving lazily pulled images through
    /// <paramref name="remote"/> (null: every layer is unpacked the ordinary way). Lazy mounts left by an earlier run
    /// are detached; they are mounted again when a snapshot needs them. Counters go to <paramref name="statistics"/>
    /// (shared with the remote file system, which counts its own fallbacks there), or a new instance.
    /// </summary>
    public static async Task<OverlaySnapshotter> OpenAsync(
        string root, ILoggerFactory loggerFactory, IRemoteFileSystem? remote, RemoteStatistics? statistics = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        root = Path.GetFullPath(root);
        Directory.CreateDirectory(Path.GetDirectoryName(root) ?? root);
        Syscalls.Mkdir(root, Mode0700, existOk: true);
        Syscalls.Mkdir(Path.Combine(root, "snapshots"), Mode0700, existOk: true);
        var logger = loggerFactory.CreateLogger<OverlaySnapshotter>();
        var store = await MetadataStore.OpenAsync(Path.Combine(root, "metadata.db"), logger, cancellationToken).ConfigureAwait(false);
        Log.StoreOpened(logger, root);
        var snapshotter = new OverlaySnapshotter(root, store, logger, remote, statistics ?? new RemoteStatistics());
        snapshotter.DeleteIncomingBootstraps();
        await snapshotter.DetachStaleMountsAsync(cancellationToken).ConfigureAwait(false);
        return snapshotter;
    }

    /// <inheritdoc/>
    public ValueTask<SnapshotInfo> StatAsync(string key, CancellationToken cancellationToken = default)
    {
        // containerd Stats far more often than it changes anything (every unpack step, every List it re-checks): answer
        // from memory while no write has committed since the entry was read (bench/RESULTS.md, "Snapshotter service").
        var version = _store.Version;
        if (_statCache.TryGetValue(key, out var cached) && cached.Version == version)
        {
            return ValueTask.FromResult(cached.Info);
        }

        return StatUncachedAsync(key, version, cancellationToken);
    }

    private async ValueTask<SnapshotInfo> StatUncachedAsync(string key, long version, CancellationToken cancellationToken)
    {
        var record = await _store.ReadAsync(tx => tx.Find(key), cancellationToken).ConfigureAwait(false);
        var info = (record ?? throw NotFound(key)).ToInfo();
        if (_statCache.Count >= MaxStatCacheEntries)
        {
            _statCache.Clear();
        }

        _statCache[key] = (version, info);
        return info;
    }

    /// <inheritdoc/>
    public async ValueTask<SnapshotInfo> UpdateAsync(SnapshotInfo info, IReadOnlyList<string> fieldPaths, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(info);
        ArgumentNullException.ThrowIfNull(fieldPaths);
        var requested = info.Labels ?? new Dictionary<string, string>();
        foreach (var path in fieldPaths)
        {
            if (path != "labels" && !(path.StartsWith("labels.", StringComparison.Ordinal) && path.Length > "labels.".Length))
            {
                throw SnapshotterException.InvalidArgument($"cannot update {path} field on snapshot {info.Name}");
            }
        }

        var now = DateTimeOffset.UtcNow;
        var updated = await _store.WriteAsync(tx =>
        {
            var record = tx.Find(info.Name) ?? throw NotFound(info.Name);
            Dictionary<string, string> labels;
            if (fieldPaths.Count == 0)
            {
                labels = new Dictionary<string, string>(requested, StringComparer.Ordinal);
            }
            else
            {
                labels = new Dictionary<string, string>(record.Labels, StringComparer.Ordinal);
                foreach (var path in fieldPaths)
                {
                    if (path == "labels")
                    {
                        labels = new Dictionary<string, string>(requested, StringComparer.Ordinal);
                        continue;
                    }

                    var key = path["labels.".Length..];
                    if (requested.TryGetValue(key, out var value) && value.Length > 0)
                    {
                        labels[key] = value;
                    }
                    else
                    {
                        labels.Remove(key);
                    }
                }
            }

            SnapshotLabels.Validate(labels);
            tx.SetLabels(record.Id, labels, now);
            return tx.Find(info.Name)!;
        }, cancellationToken).ConfigureAwait(false);
        return updated.ToInfo();
    }

    /// <inheritdoc/>
    public async ValueTask<SnapshotUsage> UsageAsync(string key, CancellationToken cancellationToken = default)
    {
        var record = await _store.ReadAsync(tx => tx.Find(key), cancellationToken).ConfigureAwait(false) ?? throw NotFound(key);
        if (record.Kind == SnapshotKind.Committed)
        {
            return new SnapshotUsage(record.Size, record.Inodes);
        }

        return DiskUsage.Compute(FsPath(record.Id), cancellationToken);
    }

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<Mount>> MountsAsync(string key, CancellationToken cancellationToken = default)
    {
        var (record, chain, lazy) = await _store.ReadAsync(tx =>
        {
            var r = tx.Find(key) ?? throw NotFound(key);
            IReadOnlyList<long> parents = r.ParentId is { } parentId ? tx.GetChain(parentId) : [];
            return (r, parents, FindLazyChain(tx, parents));
        }, cancellationToken).ConfigureAwait(false);
        if (record.Kind == SnapshotKind.Committed)
        {
            throw SnapshotterException.FailedPrecondition($"snapshot {key} is committed: mounts exist only for active or view snapshots");
        }

        return await BuildMountsAsync(record.Id, record.Kind, chain, lazy, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<Mount>> PrepareAsync(string key, string parent, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken = default) =>
        PrepareOrViewAsync(SnapshotKind.Active, key, parent, labels, cancellationToken);

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<Mount>> ViewAsync(string key, string parent, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken = default) =>
        PrepareOrViewAsync(SnapshotKind.View, key, parent, labels, cancellationToken);

    /// <inheritdoc/>
    public async ValueTask CommitAsync(string name, string key, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken = default)
    {
        ValidateName(name, "name");
        labels ??= new Dictionary<string, string>();
        SnapshotLabels.Validate(labels);

        // The usage walk can be long for a big layer: do it before taking the writer lock, then make sure
        // the key still names the same active snapshot.
        var before = await _store.ReadAsync(tx => tx.Find(key), cancellationToken).ConfigureAwait(false);
        SnapshotUsage? usage = before is { Kind: SnapshotKind.Active } ? DiskUsage.Compute(FsPath(before.Id), cancellationToken) : null;
        if (before is { Kind: SnapshotKind.Active })
        {
            await ValidateBootstrapAsync(before, cancellationToken).ConfigureAwait(false);
        }

        var now = DateTimeOffset.UtcNow;
        var (id, committedUsage) = await _store.WriteAsync(tx =>
        {
            var record = tx.Find(key) ?? throw NotFound(key);
            if (record.Kind != SnapshotKind.Active)
            {
                throw SnapshotterException.FailedPrecondition($"snapshot {key} is not active");
            }

            if (tx.Find(name) is not null)
            {
                throw SnapshotterException.AlreadyExists($"committed snapshot {name}: already exists");
            }

            var u = record.Id == before?.Id && usage.HasValue ? usage.Value : DiskUsage.Compute(FsPath(record.Id), cancellationToken);
            tx.Commit(record.Id, name, labels, u, now);
            return (record.Id, u);
        }, cancellationToken).ConfigureAwait(false);
        Log.SnapshotCommitted(_logger, key, name, id, committedUsage.Size, committedUsage.Inodes);
    }

    /// <inheritdoc/>
    public async ValueTask RemoveAsync(string key, CancellationToken cancellationToken = default)
    {
        // Rows go first, in one committed transaction; a crash before the directory is gone leaves only an
        // orphan directory, which CleanupAsync removes.
        var (id, lazyBootstrap) = await _store.WriteAsync(tx =>
        {
            var record = tx.Find(key) ?? throw NotFound(key);
            if (tx.HasChildren(record.Id))
            {
                throw SnapshotterException.FailedPrecondition($"cannot remove snapshot with child: {key}");
            }

            long? bootstrap = null;
            if (record.Kind != SnapshotKind.Committed && record.ParentId is { } parentId)
            {
                bootstrap = FindLazyChain(tx, tx.GetChain(parentId))?.BootstrapId;
            }

            tx.Delete(record.Id);
            return (record.Id, bootstrap);
        }, cancellationToken).ConfigureAwait(false);
        Log.SnapshotRemoved(_logger, key, id);
        if (lazyBootstrap is { } bootstrapId)
        {
            await ReleaseLazyMountAsync(bootstrapId, cancellationToken).ConfigureAwait(false);
        }

        // Ids of committed rows are never reused (AUTOINCREMENT), so nobody else can claim this directory now.
        var dir = SnapshotPath(id);
        var removing = Path.Combine(_snapshotsDir, RemovingPrefix + id.ToString(CultureInfo.InvariantCulture));
        try
        {
            if (Directory.Exists(dir))
            {
                DirectoryTree.Delete(removing);
                Directory.Move(dir, removing);
            }

            DirectoryTree.Delete(removing);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or SnapshotterException)
        {
            Log.DirectoryDeleteFailed(_logger, dir, e);
        }
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<SnapshotInfo> WalkAsync(SnapshotFilter filter, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        long after = 0;
        while (true)
        {
            // One short read transaction per batch: never hold a read snapshot open while the caller consumes.
            var page = await _store.ReadAsync(tx => tx.ListPage(after, WalkBatchSize), cancellationToken).ConfigureAwait(false);
            foreach (var record in page)
            {
                var info = record.ToInfo();
                if (filter.Matches(info))
                {
                    yield return info;
                }
            }

            if (page.Count < WalkBatchSize)
            {
                yield break;
            }

            after = page[^1].Id;
        }
    }

    /// <inheritdoc/>
    public async ValueTask CleanupAsync(CancellationToken cancellationToken = default)
    {
        // Under the writer lock no Prepare is between its mkdir and its commit, so every directory whose id has
        // no row is truly unowned. Rename them aside there (cheap), delete them after releasing the lock.
        var doomed = await _store.WriteAsync(tx =>
        {
            var ids = tx.AllIds();
            var moved = new List<string>();
            foreach (var path in Directory.EnumerateFileSystemEntries(_snapshotsDir))
            {
                var name = Path.GetFileName(path);
                if (long.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && ids.Contains(id))
                {
                    continue;
                }

                if (name.StartsWith(RemovingPrefix, StringComparison.Ordinal))
                {
                    moved.Add(path);
                    continue;
                }

                var target = Path.Combine(_snapshotsDir, $"{RemovingPrefix}cleanup-{name}-{Guid.NewGuid():N}");
                if (Directory.Exists(path))
                {
                    Directory.Move(path, target);
                }
                else
                {
                    File.Move(path, target);
                }

                moved.Add(target);
            }

            return moved;
        }, cancellationToken).ConfigureAwait(false);

        foreach (var path in doomed)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                DirectoryTree.Delete(path);
                Log.OrphanRemoved(_logger, path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Log.DirectoryDeleteFailed(_logger, path, e);
            }
        }

        await CleanupRemoteAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await UnmountAllAsync().ConfigureAwait(false);
        await _store.DisposeAsync().ConfigureAwait(false);
    }

    private async ValueTask<IReadOnlyList<Mount>> CreateAsync(SnapshotKind kind, string key, string parent, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken)
    {
        ValidateName(key, "key");
        parent ??= string.Empty;
        labels ??= new Dictionary<string, string>();
        SnapshotLabels.Validate(labels);
        var now = DateTimeOffset.UtcNow;
        var (id, chain, lazy) = await _store.WriteAsync(tx =>
        {
            if (tx.Find(key) is not null)
            {
                throw SnapshotterException.AlreadyExists($"snapshot {key}: already exists");
            }

            long? parentId = null;
            IReadOnlyList<long> parents = [];
            if (parent.Length > 0)
            {
                var p = tx.Find(parent) ?? throw SnapshotterException.NotFound($"parent snapshot {parent}: not found");
                if (p.Kind != SnapshotKind.Committed)
                {
                    throw SnapshotterException.InvalidArgument($"parent {parent} is not a committed snapshot");
                }

                parentId = p.Id;
                parents = tx.GetChain(p.Id);
            }

            var newId = tx.Insert(key, parentId, kind, labels, now);
            if (kind == SnapshotKind.Active && RemoteLabels.IsBootstrap(labels))
            {
                // The bootstrap layer of a lazy image that its Prepare could not fetch: containerd unpacks it here; Commit checks it.
                tx.InsertRemote(new RemoteLayerRecord(newId, RemoteLayerKind.Bootstrap, RemoteLabels.ImageRef(labels) ?? string.Empty, RemoteLabels.LayerDigest(labels) ?? string.Empty, 0));
            }

            var dir = SnapshotPath(newId);
            tx.OnRollback(() => DirectoryTree.Delete(dir));

            // A rolled-back insert can hand the same id out again, so a directory may already be there.
            DirectoryTree.Delete(dir);
            CreateDirectories(newId, kind, parents);
            return (newId, parents, FindLazyChain(tx, parents));
        }, cancellationToken).ConfigureAwait(false);
        Log.SnapshotCreated(_logger, kind, key, id, parent);
        if (lazy is null)
        {
            return await BuildMountsAsync(id, kind, chain, lazy, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            return await BuildMountsAsync(id, kind, chain, lazy, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Without mounts containerd never learns of the snapshot: do not leave it behind.
            Log.LazyMountFailed(_logger, key, e);
            await RemoveAsync(key, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    private void CreateDirectories(long id, SnapshotKind kind, IReadOnlyList<long> parents)
    {
        var dir = SnapshotPath(id);
        Syscalls.Mkdir(dir, Mode0700);
        var fs = Path.Combine(dir, "fs");
        Syscalls.Mkdir(fs, Mode0755);
        if (kind == SnapshotKind.Active)
        {
            Syscalls.Mkdir(Path.Combine(dir, "work"), Mode0700);
        }

        if (parents.Count > 0)
        {
            // Like containerd: the new upper dir takes its parent's owner, so an image's root dir keeps its owner.
            var st = Syscalls.LStatx(FsPath(parents[0]));
            Syscalls.LChown(fs, st.stx_uid, st.stx_gid);
        }
    }

    /// <summary>
    /// The mounts of snapshot <paramref name="id"/>: a bind mount without parents, else overlay with the parents' directories
    /// as lower layers, nearest first. <paramref name="lowerDirs"/> are those directories (for a lazy image: the ordinary
    /// layers above its bootstrap, then its lazy mount).
    /// </summary>
    private IReadOnlyList<Mount> BuildMounts(long id, SnapshotKind kind, IReadOnlyList<string> lowerDirs)
    {
        if (lowerDirs.Count == 0)
        {
            return [new Mount("bind", FsPath(id), [kind == SnapshotKind.View ? "ro" : "rw", "rbind"])];
        }

        if (kind == SnapshotKind.View && lowerDirs.Count == 1)
        {
            return [new Mount("bind", lowerDirs[0], ["ro", "rbind"])];
        }

        var options = new List<string>(3);
        if (kind == SnapshotKind.Active)
        {
            options.Add("workdir=" + Path.Combine(SnapshotPath(id), "work"));
            options.Add("upperdir=" + FsPath(id));
        }

        options.Add("lowerdir=" + string.Join(':', lowerDirs));
        return [new Mount("overlay", "overlay", options)];
    }

    private string SnapshotPath(long id) => Path.Combine(_snapshotsDir, id.ToString(CultureInfo.InvariantCulture));

    private string FsPath(long id) => Path.Combine(SnapshotPath(id), "fs");

    private static SnapshotterException NotFound(string key) => SnapshotterException.NotFound($"snapshot {key}: not found");

    private static void ValidateName(string value, string what)
    {
        if (string.IsNullOrEmpty(value))
        {
            throw SnapshotterException.InvalidArgument($"snapshot {what} must not be empty");
        }
    }
}
