namespace Snapshotter.Telemetry;

/// <summary>The chunk cache: hits, misses (chunks fetched), stored bytes fetched by Range GETs, prefetch, digest failures.</summary>
public sealed partial class SnapshotterMetrics
{
    private long _chunkHits;
    private long _chunkMisses;
    private long _digestFailures;
    private long _fetchedBytes;
    private long _fetches;
    private long _prefetchBytes;

    public long ChunkHitCount => Volatile.Read(ref _chunkHits);

    public long ChunkMissCount => Volatile.Read(ref _chunkMisses);

    public long DigestFailureCount => Volatile.Read(ref _digestFailures);

    /// <summary>Stored bytes the chunk cache fetched (Range GETs of chunks and whole-blob downloads).</summary>
    public long FetchedByteCount => Volatile.Read(ref _fetchedBytes);

    /// <summary>Fetches the chunk cache made (one Range GET, or one whole-blob download).</summary>
    public long RegistryRequestCount => Volatile.Read(ref _fetches);

    public long PrefetchByteCount => Volatile.Read(ref _prefetchBytes);

    /// <summary>Chunks wanted that were present or already being fetched.</summary>
    public void RecordChunkHits(int chunks) => Interlocked.Add(ref _chunkHits, chunks);

    /// <summary>One fetch of <paramref name="storedBytes"/> covering <paramref name="chunks"/> missing chunks.</summary>
    public void RecordFetch(long storedBytes, int chunks)
    {
        Interlocked.Increment(ref _fetches);
        Interlocked.Add(ref _fetchedBytes, storedBytes);
        Interlocked.Add(ref _chunkMisses, chunks);
    }

    /// <summary>Stored bytes fetched by background prefetch (also counted as fetched).</summary>
    public void RecordPrefetch(long storedBytes) => Interlocked.Add(ref _prefetchBytes, storedBytes);

    public void RecordDigestFailure() => Interlocked.Increment(ref _digestFailures);

    private void CreateCacheInstruments()
    {
        _meter.CreateObservableCounter(MetricNames.ChunkCacheHits, () => Volatile.Read(ref _chunkHits), "{chunk}", "chunks present or in flight when a read wanted them");
        _meter.CreateObservableCounter(MetricNames.ChunkCacheMisses, () => Volatile.Read(ref _chunkMisses), "{chunk}", "chunks fetched from the registry");
        _meter.CreateObservableCounter(MetricNames.ChunkDigestFailures, () => Volatile.Read(ref _digestFailures), "{chunk}", "chunks whose digest (blake3 or sha256) did not match");
        _meter.CreateObservableCounter(MetricNames.ChunkFetched, () => Volatile.Read(ref _fetchedBytes), "By", "stored bytes the chunk cache fetched");
        _meter.CreateObservableCounter(MetricNames.ChunkFetches, () => Volatile.Read(ref _fetches), "{request}", "fetches the chunk cache made (Range GETs, whole-blob downloads)");
        _meter.CreateObservableCounter(MetricNames.PrefetchBytes, () => Volatile.Read(ref _prefetchBytes), "By", "stored bytes fetched by background prefetch");
    }
}
