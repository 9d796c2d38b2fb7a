using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Snapshotter.Cachefiles.Daemon;

/// <summary>
/// A data blob served lazily: READs become chunk fetches from the registry; with prefetch enabled, the rest of the
/// blob is fetched in the background after OPEN, yielding to on-demand READs.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable", Justification = "the prefetch's token source lives from OPEN to CLOSE (or the next OPEN), which cancel and dispose it")]
public sealed class BlobObjectSource(BlobChunkFetcher fetcher, PrefetchOptions? prefetch = null, ILogger? logger = null) : ICacheObjectSource
{
    private readonly PrefetchOptions _prefetch = prefetch ?? new PrefetchOptions();
    private readonly ILogger _logger = logger ?? NullLogger.Instance;
    private readonly Lock _lock = new();
    private CancellationTokenSource? _prefetchCts;

    public BlobChunkFetcher Fetcher { get; } = fetcher;

    /// <summary>The running (or finished) background prefetch, if any; completes with the stored bytes it fetched.</summary>
    public Task<long>? Prefetch { get; private set; }

    /// <summary>The blob's uncompressed size: its address space as EROFS sees the device.</summary>
    public long Size => Fetcher.Table.UncompressedSize;

    public void Opened(CacheObjectWriter writer)
    {
        Fetcher.Reset();
        if (!_prefetch.Enabled)
        {
            return;
        }

        lock (_lock)
        {
            StopPrefetch();
            _prefetchCts = new CancellationTokenSource();
            var token = _prefetchCts.Token;
            Prefetch = Task.Run(() => RunPrefetchAsync(writer, token));
        }
    }

    public void Closed()
    {
        lock (_lock)
        {
            StopPrefetch();
        }
    }

    public ValueTask<FillResult> FillAsync(long offset, long length, CacheObjectWriter writer, CancellationToken cancellationToken = default) =>
        Fetcher.FillAsync(offset, length, writer, cancellationToken);

    /// <summary>Cancels the prefetch (it sees the cancellation before anything it calls could register on the disposed source).</summary>
    private void StopPrefetch()
    {
        _prefetchCts?.Cancel();
        _prefetchCts?.Dispose();
        _prefetchCts = null;
    }

    private async Task<long> RunPrefetchAsync(CacheObjectWriter writer, CancellationToken cancellationToken)
    {
        try
        {
            var fetched = await Fetcher.PrefetchAsync(writer, _prefetch, cancellationToken).ConfigureAwait(false);
            Log.PrefetchDone(_logger, fetched, Fetcher.PresentBytes, Size);
            return fetched;
        }
        catch (OperationCanceledException)
        {
            return 0;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Prefetch is an optimisation: a failure leaves READs to fetch on demand.
            Log.PrefetchFailed(_logger, e.Message);
            return 0;
        }
    }
}
