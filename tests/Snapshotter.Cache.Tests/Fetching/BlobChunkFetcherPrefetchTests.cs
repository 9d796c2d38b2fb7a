using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Snapshotter.Cache.Fetching;
using Snapshotter.Telemetry;

namespace Snapshotter.Cache.Tests.Fetching;

public sealed class BlobChunkFetcherPrefetchTests
{
    private const int K = 1024;

    private static (BlobChunkFetcher Fetcher, RecordingReader Reader, MemorySink Sink) Create(TestBlob blob)
    {
        var reader = new RecordingReader(blob.Stored);
        var fetcher = new BlobChunkFetcher(blob.Table, reader, new DeflateDecompressor(), new ChunkFetcherOptions { ReadaheadWindow = 0, AmplifyWindow = 0 }, new SnapshotterMetrics(), NullLogger.Instance);
        return (fetcher, reader, new MemorySink(blob.Table.UncompressedSize));
    }

    [Fact]
    public async Task PrefetchAsync_WholeBlob_EveryChunkPresentInBatches()
    {
        var blob = TestBlob.Create(Enumerable.Repeat(64 * K, 40).ToArray());
        var (fetcher, reader, sink) = Create(blob);

        var fetched = await fetcher.PrefetchAsync(sink, new PrefetchOptions { Enabled = true, BatchSize = 256 * K });

        Assert.Equal(blob.Stored.Length, fetched);
        Assert.All(Enumerable.Range(0, 40), i => Assert.True(fetcher.IsPresent(i)));
        Assert.All(reader.Requests, r => Assert.True(r.Length <= 256 * K));
        Assert.True(blob.Uncompressed.AsSpan().SequenceEqual(sink.Data.AsSpan(0, blob.Uncompressed.Length)));
    }

    [Fact]
    public async Task PrefetchAsync_SkipsChunksAlreadyPresent()
    {
        var blob = TestBlob.Create(Enumerable.Repeat(64 * K, 8).ToArray());
        var (fetcher, reader, sink) = Create(blob);
        Assert.Equal(0, await fetcher.FillAsync(0, 4 * 64 * K, sink));
        reader.Requests.Clear();

        await fetcher.PrefetchAsync(sink, new PrefetchOptions { Enabled = true });

        var request = Assert.Single(reader.Requests);
        Assert.Equal(blob.Table[4].CompressedOffset, request.Offset);
    }

    [Fact]
    public async Task PrefetchAsync_WhileDemandReadFetches_WaitsForIt()
    {
        var blob = TestBlob.Create(Enumerable.Repeat(64 * K, 8).ToArray());
        var (fetcher, reader, sink) = Create(blob);
        reader.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var demand = fetcher.FillAsync(7 * 64 * K, 4096, sink).AsTask();
        await Task.Delay(50);

        var prefetch = fetcher.PrefetchAsync(sink, new PrefetchOptions { Enabled = true, YieldDelay = TimeSpan.FromMilliseconds(5) });
        await Task.Delay(200);
        var requestsWhileDemandRuns = reader.Requests.Count;
        reader.Gate.SetResult();
        Assert.Equal(0, await demand);
        await prefetch;

        Assert.Equal(1, requestsWhileDemandRuns);
        Assert.All(Enumerable.Range(0, 8), i => Assert.True(fetcher.IsPresent(i)));
    }

    [Fact]
    public async Task PrefetchAsync_BandwidthCap_SpreadsRequestsOverTime()
    {
        var blob = TestBlob.Create(Enumerable.Repeat(64 * K, 8).ToArray(), compress: false);
        var (fetcher, _, sink) = Create(blob);
        var cap = blob.Stored.Length * 2L; // whole blob in ~0.5 s

        var watch = Stopwatch.StartNew();
        await fetcher.PrefetchAsync(sink, new PrefetchOptions { Enabled = true, BatchSize = 64 * K, BandwidthBytesPerSecond = cap });

        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(400), $"prefetch at a {cap} B/s cap took only {watch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task PrefetchAsync_Cancelled_StopsWithoutFetchingEverything()
    {
        var blob = TestBlob.Create(Enumerable.Repeat(64 * K, 16).ToArray(), compress: false);
        var (fetcher, _, sink) = Create(blob);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(150));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            fetcher.PrefetchAsync(sink, new PrefetchOptions { Enabled = true, BatchSize = 64 * K, BandwidthBytesPerSecond = 128 * K }, cts.Token));

        Assert.Contains(Enumerable.Range(0, 16), i => !fetcher.IsPresent(i));
    }

    [Fact]
    public async Task PrefetchAsync_SourceFails_ReturnsEarlyAndReadsStillWorkLater()
    {
        var blob = TestBlob.Create(Enumerable.Repeat(64 * K, 4).ToArray());
        var (fetcher, reader, sink) = Create(blob);
        reader.Fail = (_, _) => new IOException("down");

        Assert.Equal(0, await fetcher.PrefetchAsync(sink, new PrefetchOptions { Enabled = true }));

        reader.Fail = null;
        Assert.Equal(0, await fetcher.FillAsync(0, 4096, sink));
    }
}
