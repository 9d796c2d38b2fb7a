using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
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
    private readonly LazyBlob _blob;
    private readonly BlobFetcherFactory _fetchers;
    private readonly ILogger _logger;
    private readonly SnapshotterMetrics _metrics;
    private readonly SafeFileHandle _file;
    private readonly FileChunkSink _sink;
    private readonly ChunkFailureHold _failures;
    [SuppressMessage("Usage", "CA2213:Disposable fields should be disposed", Justification = "cancelled, never disposed: a READ still arriving must find its token; it has no timer or wait handle to release")]
    private readonly CancellationTokenSource _lifetime = new();
    private readonly SingleFlight<BlobChunkFetcher> _fetcher = new();

    /// <summary>
    /// Creates the sparse cache file at <paramref name="sparsePath"/> (emptied). Chunks whose fetch failed are answered
    /// EIO without fetching for <paramref name="failureHold"/> to READs of the thread whose READ failed
    /// (<see cref="ChunkFailureHold"/>; defaults to <see cref="ChunkFailureHold.DefaultDuration"/>).
    /// </summary>
    public FuseBlobFile(LazyBlob blob, string sparsePath, BlobFetcherFactory fetchers, SnapshotterMetrics metrics, ILogger logger, TimeSpan? failureHold = null)
    {
        _metrics = metrics;
        _blob = blob;
        _fetchers = fetchers;
        _logger = logger;
        _failures = new ChunkFailureHold(failureHold ?? ChunkFailureHold.DefaultDuration);
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
    public BlobChunkFetcher? Fetcher => _fetcher.Value;

    /// <summary>
    /// Answers a READ. <paramref name="cancellationToken"/> (the kernel's INTERRUPT) ends only this READ: the fetch it
    /// started runs on, since other READs may wait for the same chunks, readahead outlives the READ, and the server
    /// reuses a READ's token source for later READs. Its chunks land in the cache file for the kernel's retry.
    /// </summary>
    public ValueTask<FuseReadResult> ReadAsync(long offset, Memory<byte> destination, FuseCaller caller, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        if (_fetcher.Value is { } fetcher)
        {
            if (_failures.IsHeld(fetcher, offset, destination.Length, caller.Pid))
            {
                return ValueTask.FromResult(Record(FuseReadResult.IoError, destination.Length, started));
            }

            // No allocation on the hit path: FillAsync completes synchronously when every chunk is present.
            var fill = fetcher.FillAsync(offset, destination.Length, _sink, _lifetime.Token);
            return fill.IsCompletedSuccessfully
                ? ValueTask.FromResult(Answer(fetcher, fill.Result, offset, destination.Span, caller, started))
                : AwaitFillAsync(fetcher, fill, offset, destination, caller, started, cancellationToken);
        }

        return ReadSlowAsync(offset, destination, caller, started, cancellationToken);
    }

    /// <summary>A READ from no known thread (<see cref="FuseCaller.Unknown"/>: any earlier failure holds it).</summary>
    public ValueTask<FuseReadResult> ReadAsync(long offset, Memory<byte> destination, CancellationToken cancellationToken) =>
        ReadAsync(offset, destination, FuseCaller.Unknown, cancellationToken);

    public SafeFileHandle? GetPassthroughHandle() => null;

    /// <summary>Stops the fetches in flight and closes the cache file.</summary>
    public void Dispose()
    {
        // The source is not disposed: a READ still arriving must find its token (cancelled) rather than an ObjectDisposedException.
        _lifetime.Cancel();
        _file.Dispose();
    }

    private async ValueTask<FuseReadResult> AwaitFillAsync(
        BlobChunkFetcher fetcher, ValueTask<FillResult> fill, long offset, Memory<byte> destination, FuseCaller caller, long started, CancellationToken cancellationToken)
    {
        // An interrupted READ ends here (OperationCanceledException: the server answers EINTR), its fetch does not.
        var result = cancellationToken.CanBeCanceled
            ? await fill.AsTask().WaitAsync(cancellationToken).ConfigureAwait(false)
            : await fill.ConfigureAwait(false);
        return Answer(fetcher, result, offset, destination.Span, caller, started);
    }

    private async ValueTask<FuseReadResult> ReadSlowAsync(long offset, Memory<byte> destination, FuseCaller caller, long started, CancellationToken cancellationToken)
    {
        BlobChunkFetcher fetcher;
        try
        {
            fetcher = await GetFetcherAsync(caller, cancellationToken).ConfigureAwait(false);
        }
        catch (SnapshotterException e)
        {
            Log.ChunkTableFailed(_logger, _blob.Digest, e.Message);
            return Record(FuseReadResult.IoError, destination.Length, started);
        }

        if (_failures.IsHeld(fetcher, offset, destination.Length, caller.Pid))
        {
            return Record(FuseReadResult.IoError, destination.Length, started);
        }

        return await AwaitFillAsync(fetcher, fetcher.FillAsync(offset, destination.Length, _sink, _lifetime.Token), offset, destination, caller, started, cancellationToken)
            .ConfigureAwait(false);
    }

    private FuseReadResult Answer(BlobChunkFetcher fetcher, FillResult fill, long offset, Span<byte> destination, FuseCaller caller, long started)
    {
        if (!fill.IsSuccess)
        {
            _failures.Remember(fetcher, offset, destination.Length, caller.Pid);
            return Record(FuseReadResult.Error(fill.Errno), destination.Length, started);
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
        _metrics.RecordRead(ReadBackend.Fuse, requested, Stopwatch.GetElapsedTime(started).TotalSeconds, result.IsError);
        return result;
    }

    // A chunk-table read that just failed is not retried within the hold for the kernel's retries of that READ.
    private Task<BlobChunkFetcher> GetFetcherAsync(FuseCaller caller, CancellationToken cancellationToken) =>
        _fetcher.GetAsync(() => CreateFetcherAsync(caller), retryFailed: !_failures.IsTableHeld(caller.Pid), cancellationToken);

    private async Task<BlobChunkFetcher> CreateFetcherAsync(FuseCaller caller)
    {
        ChunkTable table;
        try
        {
            // Not a READ's token: the read is shared by every READ until it completes.
            table = await _blob.GetChunkTableAsync(_lifetime.Token).ConfigureAwait(false);
        }
        catch
        {
            _failures.RememberTableFailure(caller.Pid);
            throw;
        }

        return _fetchers.Create(_blob, table);
    }
}
