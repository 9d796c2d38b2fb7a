namespace Snapshotter.Cache.Fetching;

// Claim and fetch: each missing chunk claimed once, claimed chunks merged into Range GETs.
public sealed partial class BlobChunkFetcher
{
    /// <summary>Whether chunk <paramref name="index"/> is present or being fetched (the caller holds <c>_gate</c>).</summary>
    private bool IsPresentOrInFlight(int index) => _present[index] != 0 || _inflight.ContainsKey(index);

    /// <summary>
    /// Whether chunk <paramref name="index"/> can join the Range GET covering stored bytes <c>[runStart, runEnd)</c>:
    /// it follows within <see cref="ChunkFetcherOptions.MergeGap"/> and keeps the request within
    /// <paramref name="maxRequest"/> stored bytes.
    /// </summary>
    private bool JoinsRun(int index, long runStart, long runEnd, long maxRequest)
    {
        ref readonly var chunk = ref _table[index];
        return chunk.CompressedOffset >= runEnd
            && chunk.CompressedOffset - runEnd <= _options.MergeGap
            && chunk.CompressedEnd - runStart <= maxRequest;
    }

    /// <summary>
    /// Fetches the missing chunks of <paramref name="first"/>..<paramref name="last"/>, waits for those other requests
    /// are fetching; succeeds when all of them are present. The amplification (the missing chunks after
    /// <paramref name="last"/> within <see cref="ChunkFetcherOptions.AmplifyWindow"/>) is claimed now but fetched in
    /// the background once the READ's own chunks are in, by a request of its own that the READ does not wait for.
    /// <c>ClaimedOwn</c>: whether this READ claimed (and fetched) any of <paramref name="first"/>..<paramref name="last"/>
    /// itself, rather than only waiting for requests other READs had started.
    /// </summary>
    private async ValueTask<(FillResult Result, bool ClaimedOwn)> FetchMissingCoreAsync(int first, int last, IChunkSink sink, CancellationToken cancellationToken)
    {
        var waits = new List<Task<bool>>();
        var claimed = new List<(int Index, TaskCompletionSource<bool> Done)>();
        var own = ContinueFile(last);
        var hits = ClaimMissing(first, last, Math.Max(own, ExtendWithin(first, last, _options.AmplifyWindow)), waits, claimed, out var generation);

        _metrics.RecordChunkHits(hits);

        // Claimed in index order: the READ's own chunks first, then the amplification. Why apart: merged, a 4 KiB READ
        // of a cold blob waited for the whole window (bench/RESULTS.md, P1 on this host: containerd's read of
        // /etc/group fetched 0.99 MB, 139 ms at 100 Mbit/s, before the container could start); and started together,
        // the amplification would share the link with the READ's own request.
        var claimedOwn = claimed.Count > 0 && claimed[0].Index <= last;
        var split = claimed.FindIndex(c => c.Index > own);
        var amplified = split < 0 ? null : claimed.GetRange(split, claimed.Count - split);
        if (split >= 0)
        {
            claimed.RemoveRange(split, claimed.Count - split);
        }

        try
        {
            if (claimed.Count > 0)
            {
                await FetchRunsAsync(claimed, generation, sink, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            if (amplified is not null)
            {
                // On the thread pool: the READ is answered now; the runs complete their claims whatever happens.
                _ = Task.Run(() => FetchRunsAsync(amplified, generation, sink, cancellationToken), CancellationToken.None);
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
                return (FillResult.Failed(FillError.ChunkUnavailable), claimedOwn);
            }
        }

        return (FillResult.Success, claimedOwn);
    }

    /// <summary>
    /// The last chunk the READ ending in chunk <paramref name="last"/> fetches in its own request: also the next one
    /// when <paramref name="last"/> is a whole chunk (of the blob's chunk size) with the next chunk right after it, i.e.
    /// the file goes on there. Why: an executable's loader reads its head, then its tail, then the middle; fetched
    /// chunk by chunk, busybox (two chunks) cost two round trips of 0.54 MB each at 100 Mbit/s (bench/RESULTS.md, P1).
    /// </summary>
    private int ContinueFile(int last)
    {
        if (_chunkSize <= 0 || last + 1 >= _table.Count)
        {
            return last;
        }

        ref readonly var chunk = ref _table[last];
        return chunk.UncompressedSize == _chunkSize && _table[last + 1].UncompressedOffset == chunk.UncompressedOffset + chunk.UncompressedSize
            ? last + 1
            : last;
    }

    /// <summary>Fetches claimed chunks: one Range GET per run of (nearly) adjacent ones, the runs in parallel.</summary>
    private Task FetchRunsAsync(List<(int Index, TaskCompletionSource<bool> Done)> claimed, int generation, IChunkSink sink, CancellationToken cancellationToken)
    {
        var runs = SplitIntoRuns(claimed);
        return runs.Count == 1
            ? FetchRunAsync(runs[0], generation, sink, cancellationToken)
            : Task.WhenAll(runs.Select(run => FetchRunAsync(run, generation, sink, cancellationToken)));
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
            if (run is null || !JoinsRun(item.Index, runStart, runEnd, _options.MaxRequestSize))
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
