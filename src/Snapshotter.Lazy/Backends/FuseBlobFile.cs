using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;
using Snapshotter.Cache.Chunks;
using Snapshotter.Cache.Fetching;
using Snapshotter.Fuse;
using Snapshotter.Lazy.Blobs;
using Snapshotter.Telemetry;

namespace Snapshotter.Lazy.Backends;

/// <summary>
/// A data blob as a FUSE file (its uncompressed address space): a READ is the same path as a cachefiles READ - the
/// blob's chunk fetcher makes the range present in a local sparse cache file (fetch, merge, amplify, stream,
/// decompress, verify) - and is then answered from that file. Ranges already present never touch the network. Lives as
/// long as the cached data is worth keeping (until the blob is pruned), not only while an image is mounted.
/// </summary>
internal sealed class FuseBlobFile : IFuseFile, IDisposable
{
    /// <summary>
    /// How long a failed READ's chunks (or a failed chunk-table read) are answered EIO at once. The kernel retries a
    /// failed read two or three times (readahead, then the single page; in EROFS and again in this file's page cache
    /// beneath it): fetching again each time would keep the reader waiting that many fetch timeouts.
    /// </summary>
    internal static readonly TimeSpan FailureHold = TimeSpan.FromSeconds(1);

    private readonly LazyBlob _blob;
    private readonly BlobFetcherFactory _fetchers;
    private readonly ILogger _logger;
    private readonly SnapshotterMetrics _metrics;
    private readonly SafeFileHandle _file;
    private readonly FileChunkSink _sink;
    private readonly Lock _lock = new();
    private Task<BlobChunkFetcher>? _creating;
    private BlobChunkFetcher? _fetcher;

    // When the last READ failed and, per chunk, when a READ needing it failed (Stopwatch timestamps, 0 = never).
    private long _lastFailure;
    private long _tableFailure;
    private long[]? _failedAt;

    public FuseBlobFile(LazyBlob blob, string sparsePath, BlobFetcherFactory fetchers, SnapshotterMetrics metrics, ILogger logger)
    {
        _metrics = metrics;
        _blob = blob;
        _fetchers = fetchers;
        _logger = logger;
        SparsePath = sparsePath;
        _file = File.OpenHandle(sparsePath, FileMode.Create, FileAccess.ReadWrite, FileShare.Read);
        RandomAccess.SetLength(_file, blob.DeviceSize);
        _sink = new FileChunkSink(_file);
    }

    public string Name => _blob.Hex;

    public long Size => _blob.DeviceSize;

    public string Digest => _blob.Digest;

    public string SparsePath { get; }

    /// <summary>The blob's chunk fetcher, once a READ created it.</summary>
    public BlobChunkFetcher? Fetcher => Volatile.Read(ref _fetcher);

    public ValueTask<FuseReadResult> ReadAsync(long offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        if (_fetcher is { } fetcher)
        {
            if (Held(_lastFailure) && RecentlyFailed(fetcher, offset, destination.Length))
            {
                return ValueTask.FromResult(Record(FuseReadResult.IoError, destination.Length, started));
            }

            // No allocation on the hit path: FillAsync completes synchronously when every chunk is present.
            var fill = fetcher.FillAsync(offset, destination.Length, _sink, cancellationToken);
            return fill.IsCompletedSuccessfully
                ? ValueTask.FromResult(Answer(fetcher, fill.Result, offset, destination.Span, started, cancellationToken))
                : AwaitFillAsync(fetcher, fill, offset, destination, started, cancellationToken);
        }

        return ReadSlowAsync(offset, destination, started, cancellationToken);
    }

    public SafeFileHandle? GetPassthroughHandle() => null;

    public void Dispose() => _file.Dispose();

    private async ValueTask<FuseReadResult> AwaitFillAsync(
        BlobChunkFetcher fetcher, ValueTask<int> fill, long offset, Memory<byte> destination, long started, CancellationToken cancellationToken) =>
        Answer(fetcher, await fill.ConfigureAwait(false), offset, destination.Span, started, cancellationToken);

    private async ValueTask<FuseReadResult> ReadSlowAsync(long offset, Memory<byte> destination, long started, CancellationToken cancellationToken)
    {
        BlobChunkFetcher fetcher;
        try
        {
            fetcher = await GetFetcherAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (SnapshotterException e)
        {
            Log.ChunkTableFailed(_logger, _blob.Digest, e.Message);
            return Record(FuseReadResult.IoError, destination.Length, started);
        }

        var fill = await fetcher.FillAsync(offset, destination.Length, _sink, cancellationToken).ConfigureAwait(false);
        return Answer(fetcher, fill, offset, destination.Span, started, cancellationToken);
    }

    private FuseReadResult Answer(BlobChunkFetcher fetcher, int fill, long offset, Span<byte> destination, long started, CancellationToken cancellationToken)
    {
        if (fill != 0)
        {
            if (!cancellationToken.IsCancellationRequested)
            {
                // An interrupted READ did not fail: its retry must fetch.
                RememberFailure(fetcher, offset, destination.Length);
            }

            return Record(FuseReadResult.Error(-fill), destination.Length, started);
        }

        FuseReadResult result;
        try
        {
            var n = RandomAccess.Read(_file, destination, offset);
            result = n > 0 ? FuseReadResult.Success(n) : FuseReadResult.IoError;
        }
        catch (IOException)
        {
            result = FuseReadResult.IoError;
        }

        return Record(result, destination.Length, started);
    }

    private FuseReadResult Record(FuseReadResult result, int requested, long started)
    {
        _metrics.RecordRead(ReadBackend.Fuse, requested, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds, result.IsError);
        return result;
    }

    private static bool Held(long failedAt) => failedAt != 0 && System.Diagnostics.Stopwatch.GetElapsedTime(failedAt) < FailureHold;

    /// <summary>Marks the chunks of a failed READ that are still missing (the ones whose fetch failed).</summary>
    private void RememberFailure(BlobChunkFetcher fetcher, long offset, int length)
    {
        if (!fetcher.Table.TryFindRange(offset, length, out var first, out var last))
        {
            return;
        }

        var now = System.Diagnostics.Stopwatch.GetTimestamp();
        var failedAt = Volatile.Read(ref _failedAt) ?? Interlocked.CompareExchange(ref _failedAt, new long[fetcher.Table.Count], null) ?? _failedAt!;
        for (var i = first; i <= last; i++)
        {
            if (!fetcher.IsPresent(i))
            {
                Volatile.Write(ref failedAt[i], now);
            }
        }

        Volatile.Write(ref _lastFailure, now);
    }

    /// <summary>Whether a chunk this READ needs is missing and failed within <see cref="FailureHold"/>.</summary>
    private bool RecentlyFailed(BlobChunkFetcher fetcher, long offset, int length)
    {
        if (Volatile.Read(ref _failedAt) is not { } failedAt || !fetcher.Table.TryFindRange(offset, length, out var first, out var last))
        {
            return false;
        }

        for (var i = first; i <= last; i++)
        {
            if (!fetcher.IsPresent(i) && Held(Volatile.Read(ref failedAt[i])))
            {
                return true;
            }
        }

        return false;
    }

    private Task<BlobChunkFetcher> GetFetcherAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_creating is { IsFaulted: true } && Held(Volatile.Read(ref _tableFailure)))
            {
                // The chunk table read just failed: the kernel's retry of that READ must not wait another timeout.
                return _creating;
            }

            if (_creating is null || _creating.IsFaulted || _creating.IsCanceled)
            {
                _creating = CreateFetcherAsync();
            }

            return _creating.IsCompleted ? _creating : _creating.WaitAsync(cancellationToken);
        }
    }

    private async Task<BlobChunkFetcher> CreateFetcherAsync()
    {
        ChunkTable table;
        try
        {
            table = await _blob.GetChunkTableAsync().ConfigureAwait(false);
        }
        catch
        {
            Volatile.Write(ref _tableFailure, System.Diagnostics.Stopwatch.GetTimestamp());
            throw;
        }

        var fetcher = _fetchers.Create(_blob, table);
        Volatile.Write(ref _fetcher, fetcher);
        return fetcher;
    }
}
