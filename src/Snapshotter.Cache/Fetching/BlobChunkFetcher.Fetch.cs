namespace Snapshotter.Cache.Fetching;

// Claim and fetch: each missing chunk claimed once, claimed chunks merged into Range GETs.
public sealed partial class BlobChunkFetcher
{
    /// <summary>Whether chunk <paramref name="index"/> is present or being fetched (the caller holds <c>_gate</c>).</summary>
    private bool IsPresentOrInFlight(int index) => _present[index] != 0 || _inflight.ContainsKey(index);

    /// <summary>
    /// Whether chunk <paramref name="index"/> can join the Range GET covering stored bytes <c>[runStart, runEnd)</c>:
    /// it follows within <see cref="ChunkFetcherOptions.MergeGap"/> and keeps the request within
    /// <see cref="ChunkFetcherOptions.MaxRequestSize"/>.
    /// </summary>
    private bool JoinsRun(int index, long runStart, long runEnd)
    {
        ref readonly var chunk = ref _table[index];
        return chunk.CompressedOffset >= runEnd
            && chunk.CompressedOffset - runEnd <= _options.MergeGap
            && chunk.CompressedEnd - runStart <= _options.MaxRequestSize;
    }

    /// <summary>
    /// Fetches the missing chunks of <paramref name="first"/>..<paramref name="last"/> (amplified), waits for those
    /// other requests are fetching; succeeds when all of them are present.
    /// </summary>
    private async ValueTask<FillResult> FetchMissingCoreAsync(int first, int last, IChunkSink sink, CancellationToken cancellationToken)
    {
        var waits = new List<Task<bool>>();
        var claimed = new List<(int Index, TaskCompletionSource<bool> Done)>();
        var hits = ClaimMissing(first, last, ExtendWithin(first, last, _options.AmplifyWindow), waits, claimed, out var generation);

        _metrics.RecordChunkHits(hits);
        if (claimed.Count > 0)
        {
            var runs = SplitIntoRuns(claimed);
            if (runs.Count == 1)
            {
                await FetchRunAsync(runs[0], generation, sink, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await Task.WhenAll(runs.Select(run => FetchRunAsync(run, generation, sink, cancellationToken))).ConfigureAwait(false);
            }
        }

        foreach (var wait in waits)
        {
            await wait.ConfigureAwait(false);
        }

        for (var i = first; i <= last; i++)
        {
            if (!IsPresent(i))
            {
                return FillResult.Failed(FillError.ChunkUnavailable);
            }
        }

        return FillResult.Success;
    }

    /// <summary>
    /// Under <c>_gate</c>: claims the chunks of <paramref name="first"/>..<paramref name="ampLast"/> that are neither
    /// present nor in flight, and collects the in-flight fetches of <paramref name="first"/>..<paramref name="last"/>
    /// to wait for. Returns the chunks of the READ itself that need no fetch of its own (hits).
    /// </summary>
    private int ClaimMissing(
        int first,
        int last,
        int ampLast,
        List<Task<bool>> waits,
        List<(int Index, TaskCompletionSource<bool> Done)> claimed,
        out int generation)
    {
        var hits = 0;
        lock (_gate)
        {
            generation = _generation;
            for (var i = first; i <= ampLast; i++)
            {
                if (_present[i] != 0)
                {
                    hits += i <= last ? 1 : 0;
                }
                else if (_inflight.TryGetValue(i, out var pending))
                {
                    if (i <= last)
                    {
                        waits.Add(pending);
                        hits++;
                    }
                }
                else
                {
                    claimed.Add((i, Claim(i)));
                }
            }
        }

        return hits;
    }

    /// <summary>Marks chunk <paramref name="index"/> in flight (the caller holds <c>_gate</c>); completed by <see cref="Complete"/>.</summary>
    private TaskCompletionSource<bool> Claim(int index)
    {
        var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        _inflight[index] = done.Task;
        return done;
    }

    /// <summary>
    /// The last chunk, at or after <paramref name="last"/>, such that the stored bytes from chunk <paramref name="first"/>'s
    /// start to its end fit in <paramref name="window"/> (the window of amplification, readahead and prefetch batches).
    /// </summary>
    private int ExtendWithin(int first, int last, long window)
    {
        var start = _table[first].CompressedOffset;
        while (last + 1 < _table.Count && _table[last + 1].CompressedEnd - start <= window)
        {
            last++;
        }

        return last;
    }

    /// <summary>Groups claimed chunks into runs whose stored bytes are (nearly) adjacent: one Range GET each.</summary>
    private List<List<(int Index, TaskCompletionSource<bool> Done)>> SplitIntoRuns(List<(int Index, TaskCompletionSource<bool> Done)> claimed)
    {
        var runs = new List<List<(int, TaskCompletionSource<bool>)>>();
        List<(int, TaskCompletionSource<bool>)>? run = null;
        long runStart = 0, runEnd = 0;
        foreach (var item in claimed)
        {
            if (run is null || !JoinsRun(item.Index, runStart, runEnd))
            {
                run = [];
                runs.Add(run);
                runStart = _table[item.Index].CompressedOffset;
            }

            run.Add(item);
            runEnd = _table[item.Index].CompressedEnd;
        }

        return runs;
    }

    /// <summary>
    /// Fetches one run of claimed chunks with one Range GET and completes each. <paramref name="generation"/> is the
    /// one the chunks were claimed in: if Reset came in between, the data went to the old cache file.
    /// </summary>
    private async Task FetchRunAsync(List<(int Index, TaskCompletionSource<bool> Done)> run, int generation, IChunkSink sink, CancellationToken cancellationToken)
    {
        var start = _table[run[0].Index].CompressedOffset;
        var length = (int)(_table[run[^1].Index].CompressedEnd - start);
        var stored = StoredBuffers.Rent(length);
        var completed = 0;
        try
        {
            await _reader.ReadAsync(start, stored.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
            _metrics.RecordFetch(length, run.Count);
            Interlocked.Add(ref _fetchedBytes, length);
            Log.Fetched(_logger, run[0].Index, run[^1].Index, start, length);
            foreach (var (index, done) in run)
            {
                ref readonly var chunk = ref _table[index];
                var ok = WriteChunk(index, stored.AsSpan((int)(chunk.CompressedOffset - start), chunk.CompressedSize), sink);
                Complete(index, done, ok, generation);
                completed++;
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log.FetchFailed(_logger, run[0].Index, run[^1].Index, start, length, e.Message);
        }
        finally
        {
            for (var i = completed; i < run.Count; i++)
            {
                Complete(run[i].Index, run[i].Done, ok: false, generation);
            }

            StoredBuffers.Return(stored);
        }
    }

    private void Complete(int index, TaskCompletionSource<bool> done, bool ok, int generation)
    {
        lock (_gate)
        {
            if (ok && _present[index] == 0 && generation == _generation)
            {
                Volatile.Write(ref _present[index], 1);
                _presentBytes += _table[index].UncompressedSize;
            }

            if (_inflight.TryGetValue(index, out var current) && current == done.Task)
            {
                _inflight.Remove(index);
            }
        }

        done.TrySetResult(ok);
    }
}
