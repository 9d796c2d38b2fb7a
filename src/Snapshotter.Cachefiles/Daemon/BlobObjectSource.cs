using Snapshotter.Cache.Fetching;

namespace Snapshotter.Cachefiles.Daemon;

/// <summary>A data blob served lazily: READs become chunk fetches from the registry.</summary>
public sealed class BlobObjectSource(BlobChunkFetcher fetcher) : ICacheObjectSource
{
    public BlobChunkFetcher Fetcher { get; } = fetcher;

    /// <summary>The blob's uncompressed size: its address space as EROFS sees the device.</summary>
    public long Size => Fetcher.Table.UncompressedSize;

    public void Opened() => Fetcher.Reset();

    public ValueTask<int> FillAsync(long offset, long length, CacheObjectWriter writer, CancellationToken cancellationToken = default) =>
        Fetcher.FillAsync(offset, length, writer, cancellationToken);
}
