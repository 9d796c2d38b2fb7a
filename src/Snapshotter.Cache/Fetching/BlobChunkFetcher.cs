using System.Buffers;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Snapshotter.Cache.Buffers;
using Snapshotter.Cache.Chunks;
using Snapshotter.Telemetry;

namespace Snapshotter.Cache.Fetching;

/// <summary>
/// Makes ranges of one data blob's uncompressed address space present in its cache file: maps the range to chunks,
/// fetches only the missing ones (each chunk once, however many READs want it), merges adjacent missing chunks into
/// one Range GET, amplifies small reads up to a window, decompresses, verifies the sha256 and writes page-aligned.
/// Results are values (0 or -errno), never exceptions: every READ must be completed by the caller.
/// </summary>
public sealed class BlobChunkFetcher
{
    private const int EIO = 5;
    private const int PageSize = AlignedBuffer.PageSize;

    // Stored (compressed) bytes of requests in flight. Not ArrayPool.Shared: it keeps arrays per thread and per core,
    // which for multi-MiB requests retained tens of MiB after a sequential read (daemon RSS 139 -> 105 MiB); this pool
    // keeps a few per size (the readahead requests in flight plus a demand READ and prefetch).
    private static readonly ArrayPool<byte> StoredBuffers = ArrayPool<byte>.Create(maxArrayLength: 64 * 1024 * 1024, maxArraysPerBucket: 6);

    private readonly ChunkTable _table;
    private readonly IBlobRangeReader _reader;
    private readonly IChunkDecompressor _decompressor;
    private readonly ChunkFetcherOptions _options;
    private readonly SnapshotterMetrics _metrics;
    private readonly ILogger _logger;
    private readonly AlignedBufferPool _pool;
    private readonly byte[] _present;
    private readonly Dictionary<int, Task<bool>> _inflight = new();
    private readonly Lock _gate = new();
    private long _presentBytes;
    private long _fetchedBytes;
    private long _requestedBytes;
    private int _demandFetches;

    // Sequential readers (guarded by _gate): each keeps background requests in flight up to a window past its latest
    // demand READ, refilled as they complete, so the fetch pipeline never drains while the reader consumes present
    // data (the kernel sends no READ for it, so the latest demand READ is all we know of the reader's position).
    // A few at once: a container often reads several large files of one layer side by side.
    private const int MaxStreams = 4;
    private readonly SequentialStream[] _streams = Enumerable.Range(0, MaxStreams).Select(_ => new SequentialStream()).ToArray();
    private long _streamClock;
    private int _streamCursor;

    // Background requests in flight for all streams of this blob (bounded by MaxReadaheads).
    private int _streamRuns;

    // Bumped by Reset: a fetch that started before it wrote into the previous cache file, so its chunks must not be
    // marked present in the new one.
    private int _generation;

    public BlobChunkFetcher(
        ChunkTable table,
        IBlobRangeReader reader,
        IChunkDecompressor decompressor,
        ChunkFetcherOptions options,
        SnapshotterMetrics metrics,
        ILogger logger,
        AlignedBufferPool? pool = null)
    {
        _table = table;
        _reader = reader;
        _decompressor = decompressor;
        _options = options;
        _metrics = metrics;
        _logger = logger;
        _pool = pool ?? AlignedBufferPool.Shared;
        _present = new byte[table.Count];
    }

    public ChunkTable Table => _table;

    /// <summary>Uncompressed bytes of the chunks present in the cache file.</summary>
    public long PresentBytes => Volatile.Read(ref _presentBytes);

    /// <summary>Stored bytes this blob's fetches read from the registry.</summary>
    public long FetchedBytes => Volatile.Read(ref _fetchedBytes);

    /// <summary>Bytes READs asked of this blob.</summary>
    public long RequestedBytes => Volatile.Read(ref _requestedBytes);

    public bool IsPresent(int index) => Volatile.Read(ref _present[index]) != 0;

    /// <summary>Forgets what is present (the kernel re-opened the object with a new, empty cache file).</summary>
    public void Reset()
    {
        lock (_gate)
        {
            Array.Clear(_present);
            Volatile.Write(ref _presentBytes, 0);
            foreach (var stream in _streams)
            {
                stream.Anchor = -1;
            }

            _generation++;

            // Fetches still running belong to the old file: new READs must start their own.
            _inflight.Clear();
        }
    }

    /// <summary>
    /// Makes <c>[offset, offset + length)</c> present through <paramref name="sink"/>; ranges no chunk covers are written
    /// as zeros. Returns 0, or -EIO when a chunk could not be fetched, verified or written.
    /// </summary>
    public ValueTask<int> FillAsync(long offset, long length, IChunkSink sink, CancellationToken cancellationToken = default)
    {
        Interlocked.Add(ref _requestedBytes, length);
        var end = Math.Min(offset + length, AlignedBuffer.AlignUp(_table.UncompressedSize));
        if (end <= offset)
        {
            return ValueTask.FromResult(0);
        }

        if (!_table.TryFindRange(offset, end - offset, out var first, out var last))
        {
            return ValueTask.FromResult(WriteGaps(offset, end, sink));
        }

        // Not async on the hit path, so that a READ of present data allocates nothing (not even in Debug builds).
        var pending = EnsureChunksAsync(first, last, sink, cancellationToken);
        if (pending.IsCompletedSuccessfully)
        {
            var result = pending.Result;
            return ValueTask.FromResult(result != 0 ? result : WriteGaps(offset, end, sink));
        }

        return CompleteFillAsync(pending, offset, end, sink);
    }

    private async ValueTask<int> CompleteFillAsync(ValueTask<int> pending, long offset, long end, IChunkSink sink)
    {
        var result = await pending.ConfigureAwait(false);
        return result != 0 ? result : WriteGaps(offset, end, sink);
    }

    /// <summary>Makes chunks <paramref name="first"/>..<paramref name="last"/> present; returns 0 or -EIO.</summary>
    public ValueTask<int> EnsureChunksAsync(int first, int last, IChunkSink sink, CancellationToken cancellationToken = default)
    {
        // Fast path, no allocation: everything already present.
        var allPresent = true;
        for (var i = first; i <= last; i++)
        {
            if (!IsPresent(i))
            {
                allPresent = false;
                break;
            }
        }

        if (allPresent)
        {
            _metrics.RecordChunkHits(last - first + 1);
            return ValueTask.FromResult(0);
        }

        return FetchMissingAsync(first, last, sink, cancellationToken);
    }

    private async ValueTask<int> FetchMissingAsync(int first, int last, IChunkSink sink, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _demandFetches);
        try
        {
            StartReadahead(first, last, sink, cancellationToken);
            return await FetchMissingCoreAsync(first, last, sink, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _demandFetches);
        }
    }

    /// <summary>
    /// A READ that starts right after data already present or in flight is taken as sequential: it (re)anchors the
    /// stream and moves its limit a window past this READ's amplified range, then tops up the background requests.
    /// Like the kernel's readahead, the window starts small (twice the amplification) and doubles while the reader
    /// keeps catching up with the stream, up to <see cref="ChunkFetcherOptions.ReadaheadWindow"/>: two neighbouring
    /// small files read one after the other must not pull tens of MiB. A sequential READ that continues no stream
    /// starts one there, replacing the least recently used of <see cref="MaxStreams"/>.
    /// </summary>
    private void StartReadahead(int first, int last, IChunkSink sink, CancellationToken cancellationToken)
    {
        if (_options.ReadaheadWindow <= 0 || first == 0)
        {
            return;
        }

        lock (_gate)
        {
            if (!IsPresentOrInFlight(first - 1))
            {
                return;
            }

            // Skip what this READ fetches itself (the chunks it needs plus its amplification).
            var own = ExtendWithin(first, last, _options.AmplifyWindow);
            var stream = _streams.FirstOrDefault(x => x.Continues(first));
            var continues = stream is not null;
            stream ??= _streams.MinBy(x => x.Anchor < 0 ? long.MinValue : x.LastUsed)!;
            stream.Next = continues ? Math.Max(stream.Next, own + 1) : own + 1;
            stream.Window = continues
                ? Math.Min(_options.ReadaheadWindow, stream.Window * 2)
                : Math.Min(_options.ReadaheadWindow, 2L * Math.Max(_options.AmplifyWindow, 1024 * 1024));
            stream.Anchor = first;
            stream.Limit = _table[own].CompressedEnd + stream.Window;
            stream.LastUsed = ++_streamClock;
        }

        PumpStreams(sink, cancellationToken);
    }

    /// <summary>
    /// Starts background requests for the streams, taking turns, until <see cref="ChunkFetcherOptions.MaxReadaheads"/>
    /// are in flight or every stream has reached its limit.
    /// </summary>
    private void PumpStreams(IChunkSink sink, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            List<(int Index, TaskCompletionSource<bool> Done)> run;
            int generation;
            lock (_gate)
            {
                generation = _generation;
                if (_streamRuns >= Math.Max(1, _options.MaxReadaheads))
                {
                    return;
                }

                SequentialStream? stream = null;
                for (var turn = 0; turn < MaxStreams && stream is null; turn++)
                {
                    var candidate = _streams[(_streamCursor + turn) % MaxStreams];
                    if (HasWork(candidate))
                    {
                        stream = candidate;
                        _streamCursor = (_streamCursor + turn + 1) % MaxStreams;
                    }
                }

                if (stream is null)
                {
                    return;
                }

                // One request: touching missing chunks, within the request size and the stream's limit.
                run = [];
                var start = _table[stream.Next].CompressedOffset;
                var end = start;
                for (var i = stream.Next; i < _table.Count; i++)
                {
                    var fits = run.Count == 0 || (JoinsRun(i, start, end) && _table[i].CompressedOffset < stream.Limit);
                    if (!fits || IsPresentOrInFlight(i))
                    {
                        break;
                    }

                    var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                    _inflight[i] = done.Task;
                    run.Add((i, done));
                    end = _table[i].CompressedEnd;
                }

                stream.Next = run[^1].Index + 1;
                _streamRuns++;
            }

            // On the thread pool: a request that completes synchronously must not recurse into the next one.
            _ = Task.Run(async () =>
            {
                try
                {
                    await FetchRunAsync(run, generation, sink, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    lock (_gate)
                    {
                        _streamRuns--;
                    }
                }

                PumpStreams(sink, cancellationToken);
            }, CancellationToken.None);
        }
    }

    /// <summary>Moves the stream's front past present or in-flight chunks; true when it still has chunks to fetch.</summary>
    private bool HasWork(SequentialStream stream)
    {
        if (stream.Anchor < 0)
        {
            return false;
        }

        while (stream.Next < _table.Count && IsPresentOrInFlight(stream.Next))
        {
            stream.Next++;
        }

        return stream.Next < _table.Count && _table[stream.Next].CompressedOffset < stream.Limit;
    }

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

            if (await FetchMissingCoreAsync(index, last, sink, cancellationToken).ConfigureAwait(false) != 0)
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

    private async ValueTask<int> FetchMissingCoreAsync(int first, int last, IChunkSink sink, CancellationToken cancellationToken)
    {
        var ampLast = ExtendWithin(first, last, _options.AmplifyWindow);

        var waits = new List<Task<bool>>();
        var claimed = new List<(int Index, TaskCompletionSource<bool> Done)>();
        var hits = 0;
        int generation;
        lock (_gate)
        {
            generation = _generation;
            for (var i = first; i <= ampLast; i++)
            {
                if (_present[i] != 0)
                {
                    hits += i <= last ? 1 : 0;
                    continue;
                }

                if (_inflight.TryGetValue(i, out var pending))
                {
                    if (i <= last)
                    {
                        waits.Add(pending);
                        hits++;
                    }

                    continue;
                }

                var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                _inflight[i] = done.Task;
                claimed.Add((i, done));
            }
        }

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
                return -EIO;
            }
        }

        return 0;
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

    private bool WriteChunk(int index, ReadOnlySpan<byte> stored, IChunkSink sink)
    {
        ref readonly var chunk = ref _table[index];
        var buffer = _pool.Rent(chunk.UncompressedSize);
        try
        {
            var data = buffer.Span[..chunk.UncompressedSize];
            int n;
            if (chunk.IsCompressed)
            {
                n = _decompressor.Decompress(stored, data);
            }
            else
            {
                stored.CopyTo(data);
                n = stored.Length;
            }

            if (n != chunk.UncompressedSize)
            {
                Log.ChunkCorrupt(_logger, index, $"decompressed to {n} bytes, expected {chunk.UncompressedSize}");
                return false;
            }

            if (_options.VerifyDigests && _table.HasDigests)
            {
                Span<byte> digest = stackalloc byte[ChunkTable.DigestSize];
                SHA256.HashData(data, digest);
                if (!digest.SequenceEqual(_table.GetDigest(index)))
                {
                    _metrics.RecordDigestFailure();
                    Log.ChunkCorrupt(_logger, index, "sha256 mismatch");
                    return false;
                }
            }

            var written = sink.Write(buffer, n, chunk.UncompressedOffset);
            if (written != 0)
            {
                Log.WriteFailed(_logger, index, -written);
                return false;
            }

            return true;
        }
        catch (InvalidDataException e)
        {
            Log.ChunkCorrupt(_logger, index, e.Message);
            return false;
        }
        finally
        {
            _pool.Return(buffer);
        }
    }

    /// <summary>Writes zeros over the pages of <c>[offset, end)</c> that no chunk covers, so that the READ leaves no hole.</summary>
    private int WriteGaps(long offset, long end, IChunkSink sink)
    {
        var cursor = AlignedBuffer.AlignDown(offset);
        end = AlignedBuffer.AlignUp(end);
        AlignedBuffer? zeros = null;
        try
        {
            while (cursor < end)
            {
                long gapEnd;
                if (_table.TryFindRange(cursor, end - cursor, out var first, out _))
                {
                    ref readonly var chunk = ref _table[first];
                    if (chunk.UncompressedOffset <= cursor)
                    {
                        cursor = AlignedBuffer.AlignUp(chunk.UncompressedEnd);
                        continue;
                    }

                    gapEnd = chunk.UncompressedOffset;
                }
                else
                {
                    gapEnd = end;
                }

                zeros ??= _pool.Rent(AlignedBufferPool.MinClassSize);
                zeros.Span.Clear();
                while (cursor < gapEnd)
                {
                    var step = (int)Math.Min(zeros.Capacity, gapEnd - cursor);
                    var rc = sink.Write(zeros, step, cursor);
                    if (rc != 0)
                    {
                        return rc;
                    }

                    cursor += step;
                }
            }

            return 0;
        }
        finally
        {
            if (zeros is not null)
            {
                _pool.Return(zeros);
            }
        }
    }
}
