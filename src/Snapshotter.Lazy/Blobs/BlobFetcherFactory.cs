using Microsoft.Extensions.Logging;
using Snapshotter.Cache.Chunks;
using Snapshotter.Cache.Fetching;
using Snapshotter.Telemetry;
using Snapshotter.Registry;

namespace Snapshotter.Lazy.Blobs;

/// <summary>Creates the chunk fetcher of a blob (the READ path every on-demand backend shares).</summary>
internal sealed class BlobFetcherFactory(IBlobReader reader, ChunkFetcherOptions options, SnapshotterMetrics metrics, ILogger logger)
{
    public ChunkFetcherOptions Options => options;

    public SnapshotterMetrics Metrics => metrics;

    public BlobChunkFetcher Create(LazyBlob blob, ChunkTable table) =>
        new(table, new RegistryBlobRangeReader(reader, blob.Locator), new CodecDecompressor(blob.Info.Compressor), options, metrics, logger, chunkSize: (int)blob.Info.ChunkSize);
}
