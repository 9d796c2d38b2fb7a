using Microsoft.Extensions.Logging;
using Snapshotter.Cache.Fetching;
using Snapshotter.Cachefiles.Daemon;
using Snapshotter.Lazy.Blobs;

namespace Snapshotter.Lazy.Backends;

/// <summary>
/// A data blob as a cachefiles object: READs are filled by the blob's chunk fetcher, which is created when the first READ
/// needs it (the chunk table is read then, not at mount time, so a container start waits only for the blobs it reads).
/// One per blob per domain, however many images share it.
/// </summary>
internal sealed class FscacheBlobSource(LazyBlob blob, BlobFetcherFactory fetchers, PrefetchOptions prefetch, ILogger logger) : ICacheObjectSource
{
    private readonly Lock _lock = new();
    private readonly SingleFlight<BlobObjectSource> _creating = new();
    private BlobObjectSource? _inner;
    private CacheObjectWriter? _openedWith;

    public long Size => blob.DeviceSize;

    /// <summary>The blob's chunk fetcher, once a READ created it.</summary>
    public BlobChunkFetcher? Fetcher => Volatile.Read(ref _inner)?.Fetcher;

    public void Opened(CacheObjectWriter writer)
    {
        BlobObjectSource? inner;
        lock (_lock)
        {
            _openedWith = writer;
            inner = _inner;
        }

        // A new cache file: what the fetcher remembers as present is gone. Without a fetcher yet there is nothing to forget.
        inner?.Opened(writer);
        if (inner is null && prefetch.Enabled)
        {
            _ = _creating.GetAsync(CreateAsync, cancellationToken: CancellationToken.None);
        }
    }

    public void Closed()
    {
        BlobObjectSource? inner;
        lock (_lock)
        {
            _openedWith = null;
            inner = _inner;
        }

        inner?.Closed();
    }

    public async ValueTask<FillResult> FillAsync(long offset, long length, CacheObjectWriter writer, CancellationToken cancellationToken = default)
    {
        BlobObjectSource inner;
        try
        {
            inner = _inner ?? await _creating.GetAsync(CreateAsync, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SnapshotterException or OperationCanceledException)
        {
            Log.ChunkTableFailed(logger, blob.Digest, e.Message);
            return FillResult.Failed(FillError.ChunkTableUnavailable);
        }

        return await inner.FillAsync(offset, length, writer, cancellationToken).ConfigureAwait(false);
    }

    private async Task<BlobObjectSource> CreateAsync()
    {
        var table = await blob.GetChunkTableAsync().ConfigureAwait(false);
        var inner = new BlobObjectSource(fetchers.Create(blob, table), prefetch, logger);
        CacheObjectWriter? opened;
        lock (_lock)
        {
            _inner = inner;
            opened = _openedWith;
        }

        // The object was opened before the fetcher existed: start what OPEN starts (prefetch) now.
        if (opened is not null)
        {
            inner.Opened(opened);
        }

        return inner;
    }
}
