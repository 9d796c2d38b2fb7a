using System.Diagnostics.Metrics;

namespace Snapshotter.Cache.Metrics;

/// <summary>
/// The one place that owns the lazy-loading <see cref="Meter"/>. The hot path only bumps fields with
/// <see cref="Interlocked"/> (no allocation, no tags); observable instruments read them when an exporter collects.
/// Instrument names are constants with their unit; label sets are empty (bounded by construction).
/// </summary>
public sealed class LazyMetrics : IDisposable
{
    public const string MeterName = "Snapshotter.Lazy";
    public const string ReadRequests = "snapshotter.lazy.read.requests";
    public const string ReadBytesRequested = "snapshotter.lazy.read.requested_bytes";
    public const string ReadFailures = "snapshotter.lazy.read.failures";
    public const string ReadDuration = "snapshotter.lazy.read.duration";
    public const string FetchedBytes = "snapshotter.lazy.registry.fetched_bytes";
    public const string RegistryRequests = "snapshotter.lazy.registry.requests";
    public const string ChunkHits = "snapshotter.lazy.chunk.hits";
    public const string ChunkMisses = "snapshotter.lazy.chunk.misses";
    public const string DigestFailures = "snapshotter.lazy.chunk.digest_failures";

    /// <summary>READ latency buckets in milliseconds (the SDK defaults suit seconds-long spans, not page faults).</summary>
    public static readonly double[] ReadDurationBucketsMs = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000];

    private readonly Meter _meter;
    private readonly Histogram<double> _readDuration;
    private long _readRequests;
    private long _readBytesRequested;
    private long _readFailures;
    private long _fetchedBytes;
    private long _registryRequests;
    private long _chunkHits;
    private long _chunkMisses;
    private long _digestFailures;

    public LazyMetrics(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _meter.CreateObservableCounter(ReadRequests, () => Volatile.Read(ref _readRequests), "{request}", "READ requests from the kernel");
        _meter.CreateObservableCounter(ReadBytesRequested, () => Volatile.Read(ref _readBytesRequested), "By", "bytes the kernel asked for");
        _meter.CreateObservableCounter(ReadFailures, () => Volatile.Read(ref _readFailures), "{request}", "READs completed without data (reader gets EIO)");
        _meter.CreateObservableCounter(FetchedBytes, () => Volatile.Read(ref _fetchedBytes), "By", "stored bytes fetched from the registry");
        _meter.CreateObservableCounter(RegistryRequests, () => Volatile.Read(ref _registryRequests), "{request}", "Range GETs sent to the registry");
        _meter.CreateObservableCounter(ChunkHits, () => Volatile.Read(ref _chunkHits), "{chunk}", "chunks already present or being fetched when wanted");
        _meter.CreateObservableCounter(ChunkMisses, () => Volatile.Read(ref _chunkMisses), "{chunk}", "chunks fetched");
        _meter.CreateObservableCounter(DigestFailures, () => Volatile.Read(ref _digestFailures), "{chunk}", "chunks whose sha256 did not match");
        _readDuration = _meter.CreateHistogram(
            ReadDuration,
            "ms",
            "time from a READ's arrival to its completion",
            tags: null,
            new InstrumentAdvice<double> { HistogramBucketBoundaries = ReadDurationBucketsMs });
    }

    /// <summary>A process-wide instance for code paths without dependency injection.</summary>
    public static LazyMetrics Shared { get; } = new();

    public long ReadRequestCount => Volatile.Read(ref _readRequests);

    public long ReadBytesRequestedCount => Volatile.Read(ref _readBytesRequested);

    public long ReadFailureCount => Volatile.Read(ref _readFailures);

    public long FetchedByteCount => Volatile.Read(ref _fetchedBytes);

    public long RegistryRequestCount => Volatile.Read(ref _registryRequests);

    public long ChunkHitCount => Volatile.Read(ref _chunkHits);

    public long ChunkMissCount => Volatile.Read(ref _chunkMisses);

    public long DigestFailureCount => Volatile.Read(ref _digestFailures);

    public void RecordRead(long bytesRequested, double milliseconds, bool failed)
    {
        Interlocked.Increment(ref _readRequests);
        Interlocked.Add(ref _readBytesRequested, bytesRequested);
        if (failed)
        {
            Interlocked.Increment(ref _readFailures);
        }

        _readDuration.Record(milliseconds);
    }

    public void RecordFetch(long storedBytes, int chunks)
    {
        Interlocked.Increment(ref _registryRequests);
        Interlocked.Add(ref _fetchedBytes, storedBytes);
        Interlocked.Add(ref _chunkMisses, chunks);
    }

    public void RecordChunkHits(int chunks) => Interlocked.Add(ref _chunkHits, chunks);

    public void RecordDigestFailure() => Interlocked.Increment(ref _digestFailures);

    public void Dispose() => _meter.Dispose();
}
