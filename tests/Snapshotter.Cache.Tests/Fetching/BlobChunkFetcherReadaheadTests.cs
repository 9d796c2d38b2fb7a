using Microsoft.Extensions.Logging.Abstractions;
using Snapshotter.Cache.Fetching;
using Snapshotter.Telemetry;

namespace Snapshotter.Cache.Tests.Fetching;

/// <summary>What counts as a sequential reader's evidence: which READs start a readahead stream.</summary>
public sealed class BlobChunkFetcherReadaheadTests
{
    private const int K = 1024;
    private const int Chunk = 64 * K;

    // 16 chunks of 64 KiB stored as is; amplification 3 chunks (counted from the READ's first chunk), readahead window
    // 4 chunks (the first window, 2 MiB, is capped by it).
    private static readonly ChunkFetcherOptions Options = new() { AmplifyWindow = 3 * Chunk, ReadaheadWindow = 4 * Chunk };

    private static (BlobChunkFetcher Fetcher, RecordingReader Reader, MemorySink Sink) Create(TestBlob blob)
    {
        var reader = new RecordingReader(blob.Stored);
        var fetcher = new BlobChunkFetcher(blob.Table, reader, new DeflateDecompressor(), Options, new SnapshotterMetrics(), NullLogger.Instance);
        return (fetcher, reader, new MemorySink(blob.Table.UncompressedSize));
    }

    [Fact]
    public async Task FillAsync_ReadOfAChunkInAnotherReadsAmplification_StartsNoReadahead()
    {
        var blob = TestBlob.Create(Enumerable.Repeat(Chunk, 16).ToArray(), compress: false);
        var (fetcher, reader, sink) = Create(blob);
        reader.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        reader.GateWhen = offset => offset == Chunk;

        // A small file in chunk 0: its chunk, then chunks 1 and 2 as amplification (held in flight).
        Assert.Equal(FillResult.Success, await fetcher.FillAsync(0, 4096, sink).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        await Wait.UntilAsync(() => reader.Requests.Count == 2, "the fetcher");

        // The next small file, in chunk 1: right after present data, but its chunk is the amplification's. It waits for
        // that request and claims only its own amplification (chunk 3).
        var second = fetcher.FillAsync(Chunk + 100, 4096, sink).AsTask();
        await Wait.UntilAsync(() => reader.Requests.Count == 3, "the fetcher");
        Assert.False(second.IsCompleted);
        reader.Gate.SetResult();
        Assert.Equal(FillResult.Success, await second.WaitAsync(TimeSpan.FromSeconds(10)));
        await Wait.UntilAsync(() => fetcher.IsPresent(3), "the fetcher");
        await Task.Delay(200);

        // No readahead stream: before, chunks 4..7 came in the background as well (2.1 MB on the P1 run).
        (long, int)[] expected = [(0L, Chunk), (Chunk, 2 * Chunk), (3L * Chunk, Chunk)];
        Assert.Equal(expected, reader.Requests.ToArray());
        Assert.All(Enumerable.Range(4, 12), i => Assert.False(fetcher.IsPresent(i), $"chunk {i} read ahead"));
        Assert.True(blob.Uncompressed.AsSpan(0, 4 * Chunk).SequenceEqual(sink.Data.AsSpan(0, 4 * Chunk)));
    }

    [Fact]
    public async Task FillAsync_MissRightAfterTheAmplification_StartsReadahead()
    {
        var blob = TestBlob.Create(Enumerable.Repeat(Chunk, 16).ToArray(), compress: false);
        var (fetcher, reader, sink) = Create(blob);

        Assert.Equal(FillResult.Success, await fetcher.FillAsync(0, 4096, sink));
        await Wait.UntilAsync(() => fetcher.IsPresent(1) && fetcher.IsPresent(2), "the fetcher");

        // Chunk 3 is missing and nobody fetches it: a READ there continues the data before it, a sequential reader.
        Assert.Equal(FillResult.Success, await fetcher.FillAsync(3 * Chunk, 4096, sink));
        await Wait.UntilAsync(() => Enumerable.Range(3, 7).All(fetcher.IsPresent), "the fetcher");
        await Task.Delay(100);

        // Its own chunk, then (in the background, in either order) its amplification (4, 5) and the stream: the
        // window of 4 chunks past the amplified range (6..9), and no further.
        var requests = reader.Requests.ToArray();
        Assert.Equal((3L * Chunk, Chunk), requests[2]);
        (long, int)[] background = [(4L * Chunk, 2 * Chunk), (6L * Chunk, 4 * Chunk)];
        Assert.Equal(background, requests[3..].OrderBy(r => r.Offset).ToArray());
        Assert.False(fetcher.IsPresent(10));
        Assert.True(blob.Uncompressed.AsSpan(0, 10 * Chunk).SequenceEqual(sink.Data.AsSpan(0, 10 * Chunk)));
    }

    [Fact]
    public async Task FillAsync_ReadOfAChunkInTheStreamsFlight_MovesTheStreamOn()
    {
        var blob = TestBlob.Create(Enumerable.Repeat(Chunk, 32).ToArray(), compress: false);
        var reader = new RecordingReader(blob.Stored);
        var options = new ChunkFetcherOptions { AmplifyWindow = 0, ReadaheadWindow = 4 * Chunk, MaxRequestSize = Chunk, MaxStreamRequestSize = Chunk };
        var fetcher = new BlobChunkFetcher(blob.Table, reader, new DeflateDecompressor(), options, new SnapshotterMetrics(), NullLogger.Instance);
        var sink = new MemorySink(blob.Table.UncompressedSize);

        Assert.Equal(FillResult.Success, await fetcher.FillAsync(0, Chunk, sink));
        reader.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        reader.GateWhen = offset => offset == 2L * Chunk;
        Assert.Equal(FillResult.Success, await fetcher.FillAsync(Chunk, Chunk, sink));

        // The stream (chunks 2..5) is in flight, chunk 2 held: the reader's READ of chunk 2 only waits for it, yet
        // continues the stream, whose window moves 4 chunks past it (to chunk 6).
        await Wait.UntilAsync(() => Enumerable.Range(3, 3).All(fetcher.IsPresent), "the fetcher");
        var read = fetcher.FillAsync(2 * Chunk, Chunk, sink).AsTask();
        await Task.Delay(50);
        reader.Gate.SetResult();
        Assert.Equal(FillResult.Success, await read.WaitAsync(TimeSpan.FromSeconds(10)));
        await Wait.UntilAsync(() => fetcher.IsPresent(6), "the fetcher");
        await Task.Delay(100);
        Assert.False(fetcher.IsPresent(7));
        Assert.True(blob.Uncompressed.AsSpan(0, 7 * Chunk).SequenceEqual(sink.Data.AsSpan(0, 7 * Chunk)));
    }
}
