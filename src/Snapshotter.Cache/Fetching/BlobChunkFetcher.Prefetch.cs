namespace Snapshotter.Cache.Fetching;

// Prefetch: the whole blob in the background, behind on-demand READs and under a bandwidth cap.
public sealed partial class BlobChunkFetcher
{
    /// <summary>
    /// Fetches every missing chunk in blob order, in batches of <see cref="PrefetchOptions.BatchSize"/> stored bytes,
    /// backing off while on-demand READs are fetching and keeping under the bandwidth cap. Returns the stored bytes it
    /// fetched; stops at cancellation (the object was closed) or returns early when a batch fails.
    /// </summary>
    public async Task<long> PrefetchAsync(IChunkSink sink, PrefetchOptions options, CancellationToken cancellationToken = default)
    {
        long fetched = 0;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var index = 0;
        while (index < _table.Count && !cancellationToken.IsCancellationRequested)
        {
            if (IsPresent(index))
            {
                index++;
                continue;
            }

            // On-demand READs have a process blocked in the kernel behind them: let them have the connection.
            while (Volatile.Read(ref _demandFetches) > 0)
            {
                await Task.Delay(options.YieldDelay, cancellationToken).ConfigureAwait(false);
            }

            var last = ExtendWithin(index, index, options.BatchSize);
            var start = _table[index].CompressedOffset;

            if (!(await FetchMissingCoreAsync(index, last, sink, cancellationToken).ConfigureAwait(false)).Result.IsSuccess)
            {
                return fetched;
            }

            fetched += _table[last].CompressedEnd - start;
            _metrics.RecordPrefetch(_table[last].CompressedEnd - start);
            index = last + 1;
            if (options.BandwidthBytesPerSecond > 0)
            {
                // Sleep until the average rate since the start is back under the cap.
                var due = TimeSpan.FromSeconds((double)fetched / options.BandwidthBytesPerSecond);
                var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started);
                if (due > elapsed)
                {
                    await Task.Delay(due - elapsed, cancellationToken).ConfigureAwait(false);
                }
            }

        }

        return fetched;
    }
}
