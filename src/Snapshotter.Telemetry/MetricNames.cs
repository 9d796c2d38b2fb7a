namespace Snapshotter.Telemetry;

/// <summary>
/// The name of every instrument <see cref="SnapshotterMetrics"/> creates on its meter, in one table: what dashboards
/// and alerts rely on. The Prometheus exporter renders them with underscores and unit suffixes
/// (<see cref="ReadRequests"/> is <c>snapshotter_read_requests_total</c>, <see cref="ReadDuration"/>
/// <c>snapshotter_read_duration_seconds</c>); units, descriptions and labels are given where each is created.
/// </summary>
public static class MetricNames
{
    // Snapshot calls as containerd makes them (SnapshotterMetrics.Snapshots.cs).
    public const string SnapshotOperations = "snapshotter.snapshot.operations";
    public const string SnapshotOperationDuration = "snapshotter.snapshot.operation.duration";

    // Lazy READs from the kernel, by backend (SnapshotterMetrics.Reads.cs).
    public const string ReadRequests = "snapshotter.read.requests";
    public const string ReadBytes = "snapshotter.read";
    public const string ReadFailures = "snapshotter.read.failures";
    public const string ReadDuration = "snapshotter.read.duration";

    // The chunk cache (SnapshotterMetrics.Cache.cs).
    public const string ChunkCacheHits = "snapshotter.chunk_cache.hits";
    public const string ChunkCacheMisses = "snapshotter.chunk_cache.misses";
    public const string ChunkDigestFailures = "snapshotter.chunk_cache.digest_failures";
    public const string ChunkFetched = "snapshotter.chunk_cache.fetched";
    public const string ChunkFetches = "snapshotter.chunk_cache.fetches";
    public const string PrefetchBytes = "snapshotter.prefetch";

    // The registry client's HTTP answers (SnapshotterMetrics.Registry.cs).
    public const string RegistryRequests = "snapshotter.registry.requests";
    public const string RegistryFetched = "snapshotter.registry.fetched";

    // State observed from higher layers (SnapshotterMetrics.Lazy.cs).
    public const string LazyImagesMounted = "snapshotter.lazy.images.mounted";
    public const string LazyFallbacks = "snapshotter.lazy.fallbacks";
    public const string LazyMountDuration = "snapshotter.lazy.mount.duration";
    public const string ImageFetched = "snapshotter.image.fetched";
    public const string ImageRead = "snapshotter.image.read";
    public const string CacheDisk = "snapshotter.cache.disk";
}
