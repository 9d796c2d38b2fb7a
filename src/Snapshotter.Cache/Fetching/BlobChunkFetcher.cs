using System.Buffers;
using Microsoft.Extensions.Logging;
using Snapshotter.Cache.Buffers;
using Snapshotter.Cache.Chunks;
using Snapshotter.Telemetry;

namespace Snapshotter.Cache.Fetching;

/// <summary>
/// Makes ranges of one data blob's uncompressed address space present in its cache file: maps the range to chunks,
/// fetches only the missing ones (each chunk once, however many READs want it), merges adjacent missing chunks into
/// one Range GET, amplifies small reads up to a window, decompresses, verifies the sha256 and writes page-aligned.
/// Results are <see cref="FillResult"/> values, never exceptions: every READ must be completed by the caller.
/// </summary>
public sealed partial class BlobChunkFetcher
{

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

    // The blob's chunk size (0: unknown). A file's chunks lie back to back and only its last one may be shorter, so a
    // chunk of this size is followed by more of its file.
    private readonly int _chunkSize;
    private readonly byte[] _present;
    private readonly Dictionary<int, Task<bool>> _inflight = new();
    private readonly Lock _gate = new();
    private long _presentBytes;
    private long _fetchedBytes;
    private long _requestedBytes;
    private int _demandFetches;

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
        AlignedBufferPool? pool = null,
        int chunkSize = 0)
    {
        _table = table;
        _reader = reader;
        _decompressor = decompressor;
        _options = options;
        _metrics = metrics;
        _logger = logger;
        _pool = pool ?? AlignedBufferPool.Shared;
        _present = new byte[table.Count];
        _chunkSize = chunkSize;
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
    /// as zeros. Fails with <see cref="FillError.ChunkUnavailable"/> when a chunk could not be fetched or verified,
    /// <see cref="FillError.WriteFailed"/> when the sink could not write it.
    /// </summary>
    public ValueTask<FillResult> FillAsync(long offset, long length, IChunkSink sink, CancellationToken cancellationToken = default)
    {
        Interlocked.Add(ref _requestedBytes, length);
        var end = Math.Min(offset + length, AlignedBuffer.AlignUp(_table.UncompressedSize));
        if (end <= offset)
        {
            return ValueTask.FromResult(FillResult.Success);
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
            return ValueTask.FromResult(result.IsSuccess ? WriteGaps(offset, end, sink) : result);
        }

        return CompleteFillAsync(pending, offset, end, sink);
    }

    private async ValueTask<FillResult> CompleteFillAsync(ValueTask<FillResult> pending, long offset, long end, IChunkSink sink)
    {
        var result = await pending.ConfigureAwait(false);
        return result.IsSuccess ? WriteGaps(offset, end, sink) : result;
    }

    /// <summary>Makes chunks <paramref name="first"/>..<paramref name="last"/> present (or fails with <see cref="FillError.ChunkUnavailable"/>).</summary>
    public ValueTask<FillResult> EnsureChunksAsync(int first, int last, IChunkSink sink, CancellationToken cancellationToken = default)
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
            return ValueTask.FromResult(FillResult.Success);
        }

        return FetchMissingAsync(first, last, sink, cancellationToken);
    }

    private async ValueTask<FillResult> FetchMissingAsync(int first, int last, IChunkSink sink, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _demandFetches);
        try
        {
            // Sequential or not is decided by what was there when the READ came; the background requests start
            // once the READ's own chunks are in, so that they do not share the link with the request it waits for
            // (bench/RESULTS.md, P1 on this host: 1.69 MB of readahead started with busybox's second chunk and made
            // its 0.54 MB take 134 instead of ~50 ms at 100 Mbit/s).
            var sequential = IsSequential(first);
            var (result, claimedOwn) = await FetchMissingCoreAsync(first, last, sink, cancellationToken).ConfigureAwait(false);
            if (sequential && result.IsSuccess)
            {
                StartReadahead(first, last, startsStream: claimedOwn, sink, cancellationToken);
            }

            return result;
        }
        finally
        {
            Interlocked.Decrement(ref _demandFetches);
        }
    }
}
