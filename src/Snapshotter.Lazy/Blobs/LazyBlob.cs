using Snapshotter.Cache.Chunks;
using Snapshotter.Erofs.Reading;
using Snapshotter.Registry;

namespace Snapshotter.Lazy.Blobs;

/// <summary>
/// One data blob of a domain, shared by every mounted image that uses it (<see cref="LazyBlobRegistry"/> counts the
/// users). Holds what is the same for every backend - where the blob lives, its sizes and its chunk table (read once, on
/// first need) - and one state object per backend that serves it (cache objects, FUSE files, local files), disposed
/// when the last user releases the blob.
/// </summary>
internal sealed class LazyBlob
{
    private readonly Func<LazyBlob, CancellationToken, Task<ChunkTable>> _loadTable;
    private readonly Lock _lock = new();
    private readonly Dictionary<Type, object> _states = new();
    private Task<ChunkTable>? _table;

    public LazyBlob(string digest, BlobLocator locator, long storedSize, long deviceSize, RafsBlobInfo info, Func<LazyBlob, CancellationToken, Task<ChunkTable>> loadTable)
    {
        Digest = digest;
        Locator = locator;
        StoredSize = storedSize;
        DeviceSize = deviceSize;
        Info = info;
        _loadTable = loadTable;
    }

    /// <summary>The blob's digest, <c>sha256:&lt;hex&gt;</c> (its layer digest).</summary>
    public string Digest { get; }

    /// <summary>The 64 hex characters of the digest: the device tag, cookie key and cache file name.</summary>
    public string Hex => Digest[(Digest.IndexOf(':', StringComparison.Ordinal) + 1)..];

    /// <summary>Where the blob is fetched from.</summary>
    public BlobLocator Locator { get; }

    /// <summary>The stored (compressed) blob size in bytes.</summary>
    public long StoredSize { get; }

    /// <summary>The uncompressed address space EROFS addresses on this device, 4 KiB aligned.</summary>
    public long DeviceSize { get; }

    /// <summary>The blob's record in the bootstrap's RAFS blob table.</summary>
    public RafsBlobInfo Info { get; }

    /// <summary>Users counted by <see cref="LazyBlobRegistry"/>.</summary>
    internal int References { get; set; }

    /// <summary>
    /// The blob's chunk table, read with one Range GET of its tail on first call; concurrent callers share the read,
    /// and a failed read is retried by the next caller.
    /// </summary>
    public Task<ChunkTable> GetChunkTableAsync(CancellationToken cancellationToken = default)
    {
        Task<ChunkTable> task;
        lock (_lock)
        {
            if (_table is null || _table.IsFaulted || _table.IsCanceled)
            {
                // Not the caller's token: the read is shared, one reader giving up must not fail the others.
                _table = _loadTable(this, CancellationToken.None);
            }

            task = _table;
        }

        return task.IsCompleted ? task : task.WaitAsync(cancellationToken);
    }

    /// <summary>The state of backend type <typeparamref name="T"/> for this blob, created on first use.</summary>
    public T GetState<T>(Func<LazyBlob, T> create)
        where T : class
    {
        lock (_lock)
        {
            if (!_states.TryGetValue(typeof(T), out var state))
            {
                state = create(this);
                _states[typeof(T)] = state;
            }

            return (T)state;
        }
    }

    /// <summary>The state of backend type <typeparamref name="T"/>, if one was created.</summary>
    public T? FindState<T>()
        where T : class
    {
        lock (_lock)
        {
            return _states.TryGetValue(typeof(T), out var state) ? (T)state : null;
        }
    }

    /// <summary>Disposes every backend state (the last user released the blob).</summary>
    internal async ValueTask DisposeStatesAsync()
    {
        object[] states;
        lock (_lock)
        {
            states = [.. _states.Values];
            _states.Clear();
        }

        foreach (var state in states)
        {
            switch (state)
            {
                case IAsyncDisposable asyncDisposable:
                    await asyncDisposable.DisposeAsync().ConfigureAwait(false);
                    break;
                case IDisposable disposable:
                    disposable.Dispose();
                    break;
            }
        }
    }
}
