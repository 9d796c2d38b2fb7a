using Microsoft.Extensions.Logging.Abstractions;
using Snapshotter.Cache.Fetching;
using Snapshotter.Telemetry;

namespace Snapshotter.Cache.Tests.Fetching;

/// <summary>A run's chunks complete as their stored bytes arrive, not when its whole request is in.</summary>
public sealed class BlobChunkFetcherProgressTests
{
    private const int Chunk = 64 * 1024;

    [Fact]
    public async Task FillAsync_ReadOfTheHeadOfAnAmplificationInFlight_IsAnsweredBeforeTheRequestEnds()
    {
        var blob = TestBlob.Create(Enumerable.Repeat(Chunk, 8).ToArray(), compress: false);
        var reader = new RecordingReader(blob.Stored)
        {
            Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously),
            GateWhen = offset => offset == Chunk,
            SplitAt = (offset, _) => offset == Chunk ? Chunk : 0,
            TailGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously),
        };
        var options = new ChunkFetcherOptions { AmplifyWindow = 4 * Chunk, ReadaheadWindow = 0 };
        var fetcher = new BlobChunkFetcher(blob.Table, reader, new DeflateDecompressor(), options, new SnapshotterMetrics(), NullLogger.Instance);
        var sink = new MemorySink(blob.Table.UncompressedSize);

        // A small file in chunk 0; its amplification (chunks 1..3) is one request, held before its first byte.
        Assert.Equal(FillResult.Success, await fetcher.FillAsync(0, 4096, sink).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        await WaitUntilAsync(() => reader.Requests.Count == 2);

        // The next small file, in chunk 1: it waits for that request (and claims chunk 4 as its own amplification).
        var second = fetcher.FillAsync(Chunk + 100, 4096, sink).AsTask();
        await WaitUntilAsync(() => reader.Requests.Count == 3);
        await Task.Delay(100);
        Assert.False(second.IsCompleted);

        // Chunk 1's bytes arrive, the rest of the response does not yet: the READ is answered now.
        reader.Gate.SetResult();
        Assert.Equal(FillResult.Success, await second.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(fetcher.IsPresent(1));
        Assert.False(fetcher.IsPresent(2));
        Assert.False(fetcher.IsPresent(3));

        reader.TailGate.SetResult();
        await WaitUntilAsync(() => Enumerable.Range(0, 5).All(fetcher.IsPresent));

        // One request per run, as before: nothing fetched twice.
        (long, int)[] expected = [(0L, Chunk), (Chunk, 3 * Chunk), (4L * Chunk, Chunk)];
        Assert.Equal(expected, reader.Requests.ToArray());
        Assert.True(blob.Uncompressed.AsSpan(0, 5 * Chunk).SequenceEqual(sink.Data.AsSpan(0, 5 * Chunk)));
    }

    [Fact]
    public async Task FillAsync_RequestFailsAfterItsHead_HeadChunksStayPresentTheRestFail()
    {
        var blob = TestBlob.Create(Enumerable.Repeat(Chunk, 4).ToArray(), compress: false);
        var tail = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reader = new RecordingReader(blob.Stored) { SplitAt = (offset, _) => offset == 0 ? 2 * Chunk : 0, TailGate = tail };
        var options = new ChunkFetcherOptions { AmplifyWindow = 0, ReadaheadWindow = 0 };
        var fetcher = new BlobChunkFetcher(blob.Table, reader, new DeflateDecompressor(), options, new SnapshotterMetrics(), NullLogger.Instance);
        var sink = new MemorySink(blob.Table.UncompressedSize);

        // One READ of all four chunks: one request, whose connection breaks after two chunks.
        var read = fetcher.FillAsync(0, 4 * Chunk, sink).AsTask();
        await WaitUntilAsync(() => fetcher.IsPresent(0) && fetcher.IsPresent(1));
        tail.SetException(new IOException("connection reset"));

        Assert.Equal(FillResult.Failed(FillError.ChunkUnavailable), await read.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.False(fetcher.IsPresent(2));
        Assert.False(fetcher.IsPresent(3));
        Assert.True(blob.Uncompressed.AsSpan(0, 2 * Chunk).SequenceEqual(sink.Data.AsSpan(0, 2 * Chunk)));

        // The next READ fetches only what is missing.
        reader.SplitAt = null;
        Assert.Equal(FillResult.Success, await fetcher.FillAsync(0, 4 * Chunk, sink));
        Assert.Equal((2L * Chunk, 2 * Chunk), reader.Requests.Last());
        Assert.True(blob.Uncompressed.AsSpan().SequenceEqual(sink.Data.AsSpan(0, blob.Uncompressed.Length)));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out");
            await Task.Delay(10);
        }
    }
}
