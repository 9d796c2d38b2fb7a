namespace Snapshotter.Cache.Fetching;

// Readahead streams: background requests ahead of sequential readers.
public sealed partial class BlobChunkFetcher
{
    // Sequential readers (guarded by _gate): each keeps background requests in flight up to a window past its latest
    // demand READ, refilled as they complete, so the fetch pipeline never drains while the reader consumes present
    // data (the kernel sends no READ for it, so the latest demand READ is all we know of the reader's position).
    // A few at once: a container often reads several large files of one layer side by side.
    private const int MaxStreams = 4;
    private readonly SequentialStream[] _streams = Enumerable.Range(0, MaxStreams).Select(_ => new SequentialStream()).ToArray();
    private long _streamClock;
    private int _streamCursor;

    // Background requests in flight for all streams of this blob (bounded by MaxReadaheads) and their stored bytes
    // (bounded by MaxReadaheads x MaxRequestSize: a stream's grown requests take turns instead of adding memory; each
    // request is one buffer, and 4 x 16 MiB raised the daemon's RSS from 107 to 146-152 MiB in bench/RESULTS.md).
    private int _streamRuns;
    private long _streamRunBytes;

    /// <summary>
    /// A READ that started right after data already present or in flight (<see cref="IsSequential"/>) is taken as
    /// sequential: once its own chunks are in, it (re)anchors the stream and moves its limit a window past this READ's
    /// amplified range, then tops up the background requests.
    /// Like the kernel's readahead, the window starts small (twice the amplification) and doubles while the reader
    /// keeps catching up with the stream, up to <see cref="ChunkFetcherOptions.ReadaheadWindow"/>: two neighbouring
    /// small files read one after the other must not pull tens of MiB. A sequential READ that continues no stream
    /// starts one there, replacing the least recently used of <see cref="MaxStreams"/>, but only when
    /// <paramref name="startsStream"/>: the READ missed a chunk nobody was fetching. A READ that only waited for chunks
    /// other requests had in flight (typically another READ's amplification: its small file sat next to the one read
    /// before, which is what the amplification is for) is no evidence of a sequential reader: on the host's P1 run such
    /// a READ (just before busybox's exec) started 2.1 MB of readahead that shared the link with busybox's own 1.08 MB request
    /// (180 instead of 110 ms) and raised the bytes by the first line from 2.43 to 3.7 MB (bench/RESULTS.md, P1).
    /// </summary>
    private void StartReadahead(int first, int last, bool startsStream, IChunkSink sink, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            // Skip what this READ fetches itself (the chunks it needs plus its amplification).
            var own = ExtendWithin(first, last, _options.AmplifyWindow);
            var stream = _streams.FirstOrDefault(x => x.Continues(first));
            var continues = stream is not null;
            if (!continues && !startsStream)
            {
                return;
            }

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

    /// <summary>Whether a READ whose first chunk is <paramref name="first"/> starts right after data present or in flight (readahead on).</summary>
    private bool IsSequential(int first)
    {
        if (_options.ReadaheadWindow <= 0 || first == 0)
        {
            return false;
        }

        lock (_gate)
        {
            return IsPresentOrInFlight(first - 1);
        }
    }

    /// <summary>
    /// Starts background requests for the streams, taking turns, until <see cref="ChunkFetcherOptions.MaxReadaheads"/>
    /// are in flight or every stream has reached its limit.
    /// </summary>
    private void PumpStreams(IChunkSink sink, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            List<(int Index, TaskCompletionSource<bool> Done)>? run;
            int generation;
            long runBytes;
            lock (_gate)
            {
                generation = _generation;
                var room = ReadaheadBudget - _streamRunBytes;
                run = _streamRuns < Math.Max(1, _options.MaxReadaheads) && (_streamRuns == 0 || room >= _options.MaxRequestSize)
                    ? ClaimStreamRun(Math.Max(room, _options.MaxRequestSize))
                    : null;
                if (run is null)
                {
                    return;
                }

                runBytes = RunBytes(run);
                _streamRuns++;
                _streamRunBytes += runBytes;
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
                        _streamRunBytes -= runBytes;
                    }
                }

                PumpStreams(sink, cancellationToken);
            }, CancellationToken.None);
        }
    }

    /// <summary>
    /// Claims the next background request of the stream whose turn it is: chunks from its front that are missing,
    /// within the request size (<see cref="StreamRequestSize"/>, at most <paramref name="maxBytes"/>) and the stream's
    /// limit. Null when no stream has work (the caller holds <c>_gate</c>).
    /// </summary>
    private List<(int Index, TaskCompletionSource<bool> Done)>? ClaimStreamRun(long maxBytes)
    {
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
            return null;
        }

        var run = new List<(int Index, TaskCompletionSource<bool> Done)>();
        var start = _table[stream.Next].CompressedOffset;
        var end = start;
        var maxRequest = Math.Min(StreamRequestSize(stream), maxBytes);
        for (var i = stream.Next; i < _table.Count; i++)
        {
            var fits = run.Count == 0 || (JoinsRun(i, start, end, maxRequest) && _table[i].CompressedOffset < stream.Limit);
            if (!fits || IsPresentOrInFlight(i))
            {
                break;
            }

            run.Add((i, Claim(i)));
            end = _table[i].CompressedEnd;
        }

        stream.Next = run[^1].Index + 1;
        return run;
    }

    /// <summary>
    /// The largest background request of <paramref name="stream"/>: <see cref="ChunkFetcherOptions.MaxRequestSize"/>
    /// until its window holds more than <see cref="ChunkFetcherOptions.MaxReadaheads"/> such requests, then the
    /// window's share per request, up to <see cref="ChunkFetcherOptions.MaxStreamRequestSize"/>. Why grow: every
    /// Range GET costs the registry a lookup and a seek and the daemon a request; a reader that has doubled its window
    /// up to there is sequential, whereas random reads never anchor a stream and keep their small requests.
    /// </summary>
    private long StreamRequestSize(SequentialStream stream)
    {
        var share = stream.Window / Math.Max(1, _options.MaxReadaheads);
        return Math.Max(_options.MaxRequestSize, Math.Min(_options.MaxStreamRequestSize, share));
    }

    /// <summary>Stored bytes the background requests of this blob may have in flight at once.</summary>
    private long ReadaheadBudget => (long)Math.Max(1, _options.MaxReadaheads) * _options.MaxRequestSize;

    /// <summary>Stored bytes of a claimed run (its Range GET).</summary>
    private long RunBytes(List<(int Index, TaskCompletionSource<bool> Done)> run) =>
        _table[run[^1].Index].CompressedEnd - _table[run[0].Index].CompressedOffset;

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
}
