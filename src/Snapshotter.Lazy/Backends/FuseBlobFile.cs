using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;
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
    private readonly Lock _lock = new();
    private Task<BlobChunkFetcher>? _creating;
    private BlobChunkFetcher? _fetcher;

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
            // No allocation on the hit path: FillAsync completes synchronously when every chunk is present.
            var fill = fetcher.FillAsync(offset, destination.Length, _sink, cancellationToken);
            return fill.IsCompletedSuccessfully
                ? ValueTask.FromResult(Answer(fill.Result, offset, destination.Span, started))
                : AwaitFillAsync(fill, offset, destination, started);
        }

        return ReadSlowAsync(offset, destination, started, cancellationToken);
    }

    public SafeFileHandle? GetPassthroughHandle() => null;

    public void Dispose() => _file.Dispose();

    private async ValueTask<FuseReadResult> AwaitFillAsync(ValueTask<int> fill, long offset, Memory<byte> destination, long started) =>
        Answer(await fill.ConfigureAwait(false), offset, destination.Span, started);

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

        return Answer(await fetcher.FillAsync(offset, destination.Length, _sink, cancellationToken).ConfigureAwait(false), offset, destination.Span, started);
    }

    private FuseReadResult Answer(int fill, long offset, Span<byte> destination, long started)
    {
        if (fill != 0)
        {
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

    private Task<BlobChunkFetcher> GetFetcherAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_creating is null || _creating.IsFaulted || _creating.IsCanceled)
            {
                _creating = CreateFetcherAsync();
            }

            return _creating.IsCompleted ? _creating : _creating.WaitAsync(cancellationToken);
        }
    }

    private async Task<BlobChunkFetcher> CreateFetcherAsync()
    {
        var table = await _blob.GetChunkTableAsync().ConfigureAwait(false);
        var fetcher = _fetchers.Create(_blob, table);
        Volatile.Write(ref _fetcher, fetcher);
        return fetcher;
    }
}
