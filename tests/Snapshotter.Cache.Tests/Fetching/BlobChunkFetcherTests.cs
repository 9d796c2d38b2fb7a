using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Snapshotter.Cache.Chunks;
using Snapshotter.Cache.Fetching;
using Snapshotter.Oci;
using Snapshotter.Telemetry;

namespace Snapshotter.Cache.Tests.Fetching;

public sealed class BlobChunkFetcherTests
{
    private const int K = 1024;

    private static (BlobChunkFetcher Fetcher, RecordingReader Reader, MemorySink Sink, SnapshotterMetrics Metrics) Create(
        TestBlob blob, ChunkFetcherOptions? options = null, ILogger? logger = null)
    {
        var reader = new RecordingReader(blob.Stored);
        var metrics = new SnapshotterMetrics();
        var fetcher = new BlobChunkFetcher(blob.Table, reader, new DeflateDecompressor(), options ?? new ChunkFetcherOptions { ReadaheadWindow = 0 }, metrics, logger ?? NullLogger.Instance);
        return (fetcher, reader, new MemorySink(blob.Table.UncompressedSize), metrics);
    }

    private static void AssertRangeMatches(TestBlob blob, MemorySink sink, long offset, long length)
    {
        Assert.True(
            blob.Uncompressed.AsSpan((int)offset, (int)length).SequenceEqual(sink.Data.AsSpan((int)offset, (int)length)),
            $"bytes differ in [{offset}, +{length})");
    }

    [Fact]
    public async Task FillAsync_SmallRead_FetchesCoveringChunkThenAmplifiesWithinWindowInTheBackground()
    {
        var blob = TestBlob.Create(Enumerable.Repeat(256 * K, 16).ToArray());
        var (fetcher, reader, sink, metrics) = Create(blob, new ChunkFetcherOptions { ReadaheadWindow = 0, AmplifyWindow = 300 * K });
        var amplified = Enumerable.Range(2, 14).TakeWhile(i => blob.Table[i].CompressedEnd - blob.Table[1].CompressedOffset <= 300 * K).ToArray();
        Assert.NotEmpty(amplified);

        Assert.Equal(FillResult.Success, await fetcher.FillAsync(256 * K + 100, 4096, sink));
        await Wait.UntilAsync(() => amplified.All(fetcher.IsPresent), "the background readahead");

        // The READ's own request is its chunk exactly; the window's other chunks come in a second request.
        var expected = new[]
        {
            (blob.Table[1].CompressedOffset, blob.Table[1].CompressedSize),
            (blob.Table[2].CompressedOffset, (int)(blob.Table[amplified[^1]].CompressedEnd - blob.Table[2].CompressedOffset)),
        };
        Assert.Equal(expected, reader.Requests.ToArray());
        Assert.False(fetcher.IsPresent(0));
        Assert.False(fetcher.IsPresent(amplified[^1] + 1));
        AssertRangeMatches(blob, sink, 256 * K, amplified[^1] * 256 * K);
        Assert.Equal(2, metrics.RegistryRequestCount);
        Assert.Equal(reader.Requests.Sum(r => (long)r.Length), metrics.FetchedByteCount);
    }

    [Fact]
    public async Task FillAsync_AmplificationStalled_ReadIsAnsweredWithoutIt()
    {
        var blob = TestBlob.Create(Enumerable.Repeat(64 * K, 8).ToArray(), compress: false);
        var (fetcher, reader, sink, _) = Create(blob, new ChunkFetcherOptions { ReadaheadWindow = 0, AmplifyWindow = 4 * 64 * K });
        reader.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        reader.GateWhen = offset => offset > 0;

        Assert.Equal(FillResult.Success, await fetcher.FillAsync(0, 4096, sink).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(fetcher.IsPresent(0));
        Assert.False(fetcher.IsPresent(1));

        // A READ of an amplified chunk waits for the request already fetching it rather than sending its own.
        var second = fetcher.FillAsync(2 * 64 * K, 4096, sink).AsTask();
        await Task.Delay(100);
        Assert.False(second.IsCompleted);
        reader.Gate.SetResult();
        Assert.Equal(FillResult.Success, await second);
        (long, int)[] firstTwo = [(0L, 64 * K), (64L * K, 3 * 64 * K)];
        Assert.Equal(firstTwo, reader.Requests.Take(2).ToArray());

        // Only the second READ's own amplification (chunks 4 and 5) may follow.
        Assert.All(reader.Requests.Skip(2), r => Assert.Equal(4L * 64 * K, r.Offset));
        AssertRangeMatches(blob, sink, 0, 4 * 64 * K);
    }

    [Fact]
    public async Task FillAsync_AmplificationDisabled_FetchesExactlyTheCoveringChunks()
    {
        var blob = TestBlob.Create(Enumerable.Repeat(64 * K, 8).ToArray());
        var (fetcher, reader, sink, _) = Create(blob, new ChunkFetcherOptions { ReadaheadWindow = 0, AmplifyWindow = 0 });

        Assert.Equal(FillResult.Success, await fetcher.FillAsync(64 * K - 10, 20, sink));

        var request = Assert.Single(reader.Requests);
        Assert.Equal(blob.Table[0].CompressedOffset, request.Offset);
        Assert.Equal(blob.Table[1].CompressedEnd - blob.Table[0].CompressedOffset, request.Length);
        Assert.Equal(2, Enumerable.Range(0, 8).Count(fetcher.IsPresent));
    }

    [Fact]
    public async Task FillAsync_ReadEndingInAWholeChunk_AlsoFetchesTheNextChunkOfItsFile()
    {
        // Two files of 64 KiB chunks: chunks 0..2 (the last one short) and 3..4.
        var blob = TestBlob.Create([64 * K, 64 * K, 10 * K, 64 * K, 64 * K, 64 * K]);
        var reader = new RecordingReader(blob.Stored);
        var fetcher = new BlobChunkFetcher(
            blob.Table, reader, new DeflateDecompressor(), new ChunkFetcherOptions { ReadaheadWindow = 0, AmplifyWindow = 0 }, new SnapshotterMetrics(), NullLogger.Instance, chunkSize: 64 * K);
        var sink = new MemorySink(blob.Table.UncompressedSize);

        Assert.Equal(FillResult.Success, await fetcher.FillAsync(0, 4096, sink));
        Assert.Equal(FillResult.Success, await fetcher.FillAsync(2 * 64 * K, 4096, sink));

        // Chunk 0 is whole, so chunk 1 came with it; chunk 2 is short (its file ends), so chunk 3 did not.
        (long, int)[] expected =
        [
            (blob.Table[0].CompressedOffset, (int)(blob.Table[1].CompressedEnd - blob.Table[0].CompressedOffset)),
            (blob.Table[2].CompressedOffset, blob.Table[2].CompressedSize),
        ];
        Assert.Equal(expected, reader.Requests.ToArray());
        Assert.False(fetcher.IsPresent(3));
        AssertRangeMatches(blob, sink, 0, 2 * 64 * K + 10 * K);
    }

    [Fact]
    public async Task FillAsync_AdjacentMissingChunks_MergedIntoOneRequest()
    {
        var blob = TestBlob.Create(Enumerable.Repeat(64 * K, 8).ToArray());
        var (fetcher, reader, sink, metrics) = Create(blob, new ChunkFetcherOptions { ReadaheadWindow = 0, AmplifyWindow = 0 });

        Assert.Equal(FillResult.Success, await fetcher.FillAsync(0, 8 * 64 * K, sink));

        Assert.Single(reader.Requests);
        Assert.Equal(8, metrics.ChunkMissCount);
        AssertRangeMatches(blob, sink, 0, blob.Uncompressed.Length);
    }

    [Fact]
    public async Task FillAsync_PresentChunksInTheMiddle_SplitsIntoTwoRequests()
    {
        var blob = TestBlob.Create(Enumerable.Repeat(64 * K, 6).ToArray());
        var (fetcher, reader, sink, metrics) = Create(blob, new ChunkFetcherOptions { ReadaheadWindow = 0, AmplifyWindow = 0 });
        Assert.Equal(FillResult.Success, await fetcher.FillAsync(2 * 64 * K, 2 * 64 * K, sink));
        reader.Requests.Clear();

        Assert.Equal(FillResult.Success, await fetcher.FillAsync(0, 6 * 64 * K, sink));

        Assert.Equal(
            [(blob.Table[0].CompressedOffset, (int)(blob.Table[1].CompressedEnd - blob.Table[0].CompressedOffset)),
             (blob.Table[4].CompressedOffset, (int)(blob.Table[5].CompressedEnd - blob.Table[4].CompressedOffset))],
            reader.Requests.OrderBy(r => r.Offset).ToArray());
        Assert.Equal(2, metrics.ChunkHitCount);
        AssertRangeMatches(blob, sink, 0, blob.Uncompressed.Length);
    }

    [Fact]
    public async Task FillAsync_RequestLongerThanMaxRequestSize_IsSplit()
    {
        var blob = TestBlob.Create(Enumerable.Repeat(128 * K, 8).ToArray(), compress: false);
        var (fetcher, reader, sink, _) = Create(blob, new ChunkFetcherOptions { ReadaheadWindow = 0, AmplifyWindow = 0, MaxRequestSize = 256 * K });

        Assert.Equal(FillResult.Success, await fetcher.FillAsync(0, 8 * 128 * K, sink));

        Assert.Equal(4, reader.Requests.Count);
        Assert.All(reader.Requests, r => Assert.True(r.Length <= 256 * K));
        AssertRangeMatches(blob, sink, 0, blob.Uncompressed.Length);
    }

    [Fact]
    public async Task FillAsync_ManyConcurrentReadsOfOneChunk_FetchItOnce()
    {
        var blob = TestBlob.Create(Enumerable.Repeat(1024 * K, 4).ToArray());
        var (fetcher, reader, sink, _) = Create(blob, new ChunkFetcherOptions { ReadaheadWindow = 0, AmplifyWindow = 0 });
        reader.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var reads = Enumerable.Range(0, 32).Select(i => fetcher.FillAsync(1024 * K + (i * 8 * K), 4096, sink).AsTask()).ToArray();
        await Task.Delay(100);
        reader.Gate.SetResult();
        var results = await Task.WhenAll(reads);

        Assert.All(results, r => Assert.Equal(FillResult.Success, r));
        Assert.Single(reader.Requests);
        AssertRangeMatches(blob, sink, 1024 * K, 1024 * K);
    }

    [Fact]
    public async Task FillAsync_ReaderFails_ReturnsEioAndALaterReadRetries()
    {
        var blob = TestBlob.Create(Enumerable.Repeat(64 * K, 4).ToArray());
        var (fetcher, reader, sink, _) = Create(blob);
        reader.Fail = (_, _) => new HttpRequestException("registry down");

        Assert.Equal(FillResult.Failed(FillError.ChunkUnavailable), await fetcher.FillAsync(0, 4096, sink));
        Assert.False(fetcher.IsPresent(0));

        reader.Fail = null;
        Assert.Equal(FillResult.Success, await fetcher.FillAsync(0, 4096, sink));
        AssertRangeMatches(blob, sink, 0, 64 * K);
    }

    [Fact]
    public async Task FillAsync_WaitersOfAFailedFetch_AllGetEio()
    {
        var blob = TestBlob.Create(Enumerable.Repeat(64 * K, 2).ToArray());
        var (fetcher, reader, sink, _) = Create(blob, new ChunkFetcherOptions { ReadaheadWindow = 0, AmplifyWindow = 0 });
        reader.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        reader.Fail = (_, _) => new IOException("connection reset");

        var reads = Enumerable.Range(0, 8).Select(_ => fetcher.FillAsync(0, 4096, sink).AsTask()).ToArray();
        await Task.Delay(50);
        reader.Gate.SetResult();

        Assert.All(await Task.WhenAll(reads), r => Assert.Equal((FillError.ChunkUnavailable, 5), (r.Error, r.Errno)));
        Assert.Single(reader.Requests);
    }

    [Theory]
    [InlineData(ChunkDigester.Sha256, "sha256 mismatch")]
    [InlineData(ChunkDigester.Blake3, "blake3 mismatch")]
    public async Task FillAsync_CorruptedStoredBytes_FailsDigestCheckAndWritesNothing(ChunkDigester algorithm, string logged)
    {
        var blob = TestBlob.Create([64 * K, 64 * K], compress: false, digests: algorithm);
        blob.Stored[100] ^= 0xFF;
        var logger = new RecordingLogger();
        var (fetcher, _, sink, metrics) = Create(blob, new ChunkFetcherOptions { ReadaheadWindow = 0, AmplifyWindow = 0 }, logger);

        Assert.Equal(FillResult.Failed(FillError.ChunkUnavailable), await fetcher.FillAsync(0, 4096, sink));

        Assert.Equal(1, metrics.DigestFailureCount);
        Assert.Equal(0, sink.WriteCount);
        Assert.Contains(logger.Entries, e => e.Level == LogLevel.Error && e.Message == $"chunk 0 failed verification: {logged}");
        Assert.Equal(FillResult.Success, await fetcher.FillAsync(64 * K, 4096, sink));
    }

    [Theory]
    [InlineData(ChunkDigester.Sha256)]
    [InlineData(ChunkDigester.Blake3)]
    public async Task FillAsync_IntactChunks_VerifyWithTheTablesAlgorithm(ChunkDigester algorithm)
    {
        var blob = TestBlob.Create([64 * K, 40 * K, 64 * K], digests: algorithm);
        var (fetcher, _, sink, metrics) = Create(blob, new ChunkFetcherOptions { ReadaheadWindow = 0, AmplifyWindow = 0 });

        Assert.Equal(FillResult.Success, await fetcher.FillAsync(0, blob.Uncompressed.Length, sink));

        Assert.Equal(0, metrics.DigestFailureCount);
        AssertRangeMatches(blob, sink, 0, blob.Uncompressed.Length);
    }

    [Fact]
    public async Task FillAsync_DigestsOfTheOtherAlgorithm_FailEveryChunk()
    {
        // A sha256 table read as blake3 (what a reader ignoring the image's digester did the other way round).
        var sha = TestBlob.Create([64 * K, 64 * K], compress: false);
        var entries = Enumerable.Range(0, sha.Table.Count).Select(i => sha.Table[i]).ToArray();
        var digests = Enumerable.Range(0, sha.Table.Count).SelectMany(i => sha.Table.GetDigest(i).ToArray()).ToArray();
        var misread = new ChunkTable(entries, digests, ChunkDigester.Blake3, sha.Table.UncompressedSize, sha.Table.CompressedSize);
        var metrics = new SnapshotterMetrics();
        var fetcher = new BlobChunkFetcher(misread, new RecordingReader(sha.Stored), new DeflateDecompressor(), new ChunkFetcherOptions { ReadaheadWindow = 0, AmplifyWindow = 0 }, metrics, NullLogger.Instance);
        var sink = new MemorySink(misread.UncompressedSize);

        Assert.Equal(FillResult.Failed(FillError.ChunkUnavailable), await fetcher.FillAsync(0, 4096, sink));
        Assert.Equal(FillResult.Failed(FillError.ChunkUnavailable), await fetcher.FillAsync(64 * K, 4096, sink));
        Assert.Equal(2, metrics.DigestFailureCount);
    }

    [Fact]
    public async Task FillAsync_CorruptCompressedChunk_ReturnsEio()
    {
        var blob = TestBlob.Create([64 * K]);
        Array.Fill(blob.Stored, (byte)0xFF, 0, Math.Min(64, blob.Stored.Length));
        var (fetcher, _, sink, _) = Create(blob);

        Assert.Equal(FillResult.Failed(FillError.ChunkUnavailable), await fetcher.FillAsync(0, 4096, sink));
        Assert.Equal(0, sink.WriteCount);
    }

    [Fact]
    public async Task FillAsync_RangeWithGapsAndTail_ZeroFillsUncoveredPages()
    {
        var blob = TestBlob.Create([5000, 100, 4096], compress: false);
        var (fetcher, _, sink, _) = Create(blob);
        Array.Fill(sink.Data, (byte)0xAA);

        Assert.Equal(FillResult.Success, await fetcher.FillAsync(0, blob.Table.UncompressedSize, sink));

        Assert.All(sink.Written, Assert.True);
        AssertRangeMatches(blob, sink, 0, blob.Uncompressed.Length);
    }

    [Fact]
    public async Task FillAsync_AlreadyPresent_NoRequestAndNoAllocation()
    {
        var blob = TestBlob.Create(Enumerable.Repeat(64 * K, 4).ToArray());
        var (fetcher, reader, sink, metrics) = Create(blob);
        Assert.Equal(FillResult.Success, await fetcher.FillAsync(0, 4 * 64 * K, sink));
        reader.Requests.Clear();
        await fetcher.FillAsync(0, 4096, sink);

        for (var i = 0; i < 1000; i++)
        {
            await fetcher.FillAsync(i % 4 * 64 * K, 4096, sink);
        }

        // Assertions allocate, so the measured loop only counts.
        var before = GC.GetAllocatedBytesForCurrentThread();
        var synchronous = 0;
        var failures = 0;
        for (var i = 0; i < 1000; i++)
        {
            var pending = fetcher.FillAsync(i % 4 * 64 * K, 4096, sink);
            synchronous += pending.IsCompletedSuccessfully ? 1 : 0;
            failures += (await pending).IsSuccess ? 0 : 1;
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(1000, synchronous);
        Assert.Equal(0, failures);
        Assert.Equal(0, allocated);
        Assert.Empty(reader.Requests);
        Assert.True(metrics.ChunkHitCount >= 100);
    }

    [Fact]
    public async Task Reset_ForgetsPresence_NextReadFetchesAgain()
    {
        var blob = TestBlob.Create([64 * K]);
        var (fetcher, reader, sink, _) = Create(blob);
        await fetcher.FillAsync(0, 4096, sink);

        fetcher.Reset();
        await fetcher.FillAsync(0, 4096, sink);

        Assert.Equal(2, reader.Requests.Count);
        Assert.Equal(0, fetcher.PresentBytes - (64 * K));
    }

    [Fact]
    public async Task Reset_WhileFetching_OldFetchDoesNotCountForTheNewFile()
    {
        var blob = TestBlob.Create([64 * K, 64 * K]);
        var (fetcher, reader, sink, _) = Create(blob, new ChunkFetcherOptions { AmplifyWindow = 0, ReadaheadWindow = 0 });
        reader.Gate = new TaskCompletionSource();
        var stale = fetcher.FillAsync(0, 4096, sink).AsTask();
        await Wait.UntilAsync(() => reader.Requests.Count == 1, "the background readahead");

        // The kernel re-opened the object with a new, empty cache file while the first fetch was still running.
        fetcher.Reset();
        var fresh = fetcher.FillAsync(0, 4096, sink).AsTask();
        await Wait.UntilAsync(() => reader.Requests.Count == 2, "the background readahead");
        reader.Gate.SetResult();
        await stale;

        Assert.Equal(FillResult.Success, await fresh);
        Assert.True(fetcher.IsPresent(0));
        Assert.Equal(64 * K, fetcher.PresentBytes);
        Assert.All(reader.Requests, r => Assert.Equal(0, r.Offset));
    }

    [Fact]
    public async Task FillAsync_RandomReadsOnRandomBlob_AlwaysExactBytes()
    {
        var random = new Random(9);
        var blob = TestBlob.Create(Enumerable.Range(0, 40).Select(_ => random.Next(1, 300 * K)).ToArray(), seed: 3);
        var (fetcher, _, sink, _) = Create(blob, new ChunkFetcherOptions { ReadaheadWindow = 0, AmplifyWindow = 512 * K, MergeGap = 0 });

        var reads = Enumerable.Range(0, 64).Select(async i =>
        {
            var offset = random.NextInt64(0, blob.Table.UncompressedSize - 1) & ~4095L;
            var length = Math.Min(random.Next(1, 200 * K), blob.Table.UncompressedSize - offset);
            Assert.Equal(FillResult.Success, await fetcher.FillAsync(offset, length, sink));
            return (offset, length);
        }).ToArray();

        foreach (var (offset, length) in await Task.WhenAll(reads))
        {
            AssertRangeMatches(blob, sink, offset, length);
        }
    }

    [Fact]
    public async Task FillAsync_SequentialReads_ReadAheadInTheBackground()
    {
        var blob = TestBlob.Create(Enumerable.Repeat(64 * K, 16).ToArray(), compress: false);
        var (fetcher, reader, sink, _) = Create(blob, new ChunkFetcherOptions { AmplifyWindow = 0, ReadaheadWindow = 4 * 64 * K });

        Assert.Equal(FillResult.Success, await fetcher.FillAsync(0, 64 * K, sink));
        Assert.Single(reader.Requests);
        Assert.Equal(FillResult.Success, await fetcher.FillAsync(64 * K, 64 * K, sink));

        // The second READ continued the first: chunks 2..5 are fetched without anyone asking.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!Enumerable.Range(2, 4).All(fetcher.IsPresent) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        Assert.All(Enumerable.Range(2, 4), i => Assert.True(fetcher.IsPresent(i), $"chunk {i} not read ahead"));
        Assert.False(fetcher.IsPresent(6));
        var requests = reader.Requests.Count;
        Assert.Equal(FillResult.Success, await fetcher.FillAsync(2 * 64 * K, 64 * K, sink));
        Assert.True(reader.Requests.Count >= requests, "reading a chunk that was read ahead issued no new request for it");
        Assert.DoesNotContain(reader.Requests.Skip(requests), r => r.Offset == blob.Table[2].CompressedOffset);
        Assert.True(blob.Uncompressed.AsSpan(0, 6 * 64 * K).SequenceEqual(sink.Data.AsSpan(0, 6 * 64 * K)));
    }

    [Fact]
    public async Task FillAsync_SequentialRead_ReadaheadStartsOnceTheReadsOwnChunksAreIn()
    {
        var blob = TestBlob.Create(Enumerable.Repeat(64 * K, 16).ToArray(), compress: false);
        var (fetcher, reader, sink, _) = Create(blob, new ChunkFetcherOptions { AmplifyWindow = 0, ReadaheadWindow = 4 * 64 * K, MaxRequestSize = 64 * K });
        Assert.Equal(FillResult.Success, await fetcher.FillAsync(0, 64 * K, sink));
        reader.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        reader.GateWhen = offset => offset == blob.Table[1].CompressedOffset;

        // While the sequential READ's own chunk is being fetched, nothing else shares the link.
        var read = fetcher.FillAsync(64 * K, 64 * K, sink).AsTask();
        await Wait.UntilAsync(() => reader.Requests.Count == 2, "the background readahead");
        await Task.Delay(100);
        Assert.Equal(2, reader.Requests.Count);

        reader.Gate.SetResult();
        Assert.Equal(FillResult.Success, await read);
        await Wait.UntilAsync(() => Enumerable.Range(2, 4).All(fetcher.IsPresent), "the background readahead");
        Assert.True(blob.Uncompressed.AsSpan(0, 6 * 64 * K).SequenceEqual(sink.Data.AsSpan(0, 6 * 64 * K)));
    }

    [Fact]
    public async Task FillAsync_SequentialStream_RefillsUpToTheWindowPastEachDemandRead()
    {
        // 64 chunks of 64 KiB stored as is; a window of 16 chunks, requests of at most 2 chunks, 2 in flight.
        var blob = TestBlob.Create(Enumerable.Repeat(64 * K, 64).ToArray(), compress: false);
        var (fetcher, reader, sink, _) = Create(
            blob, new ChunkFetcherOptions { AmplifyWindow = 0, ReadaheadWindow = 16 * 64 * K, MaxRequestSize = 2 * 64 * K, MaxStreamRequestSize = 2 * 64 * K, MaxReadaheads = 2 });

        Assert.Equal(FillResult.Success, await fetcher.FillAsync(0, 64 * K, sink));
        Assert.Equal(FillResult.Success, await fetcher.FillAsync(64 * K, 64 * K, sink));
        await Wait.UntilAsync(() => Enumerable.Range(2, 16).All(fetcher.IsPresent), "the background readahead");
        await Task.Delay(100);

        // Chunks 2..17 come in the background (the window past chunk 1), not one more.
        Assert.False(fetcher.IsPresent(18));
        Assert.All(reader.Requests, r => Assert.True(r.Length <= 2 * 64 * K, $"request of {r.Length} bytes"));

        // Like the kernel, the reader sends no READ for present data; its next READ is the first hole (chunk 18):
        // the stream goes on 16 chunks past it.
        Assert.Equal(FillResult.Success, await fetcher.FillAsync(18 * 64 * K, 64 * K, sink));
        await Wait.UntilAsync(() => Enumerable.Range(19, 16).All(fetcher.IsPresent), "the background readahead");
        await Task.Delay(100);
        Assert.False(fetcher.IsPresent(35));

        // Every chunk was requested once, and the data is right.
        var covered = new int[64];
        foreach (var (offset, length) in reader.Requests)
        {
            for (var chunk = offset / (64 * K); chunk < (offset + length) / (64 * K); chunk++)
            {
                covered[chunk]++;
            }
        }

        Assert.All(Enumerable.Range(0, 35), i => Assert.Equal(1, covered[i]));
        Assert.All(Enumerable.Range(35, 29), i => Assert.Equal(0, covered[i]));
        Assert.True(blob.Uncompressed.AsSpan(0, 35 * 64 * K).SequenceEqual(sink.Data.AsSpan(0, 35 * 64 * K)));
    }

    [Fact]
    public async Task FillAsync_SequentialStream_WindowStartsAtTwoMiBAndDoubles()
    {
        // 160 chunks of 64 KiB; the window may grow to 96 chunks (6 MiB).
        var blob = TestBlob.Create(Enumerable.Repeat(64 * K, 160).ToArray(), compress: false);
        var (fetcher, _, sink, _) = Create(blob, new ChunkFetcherOptions { AmplifyWindow = 0, ReadaheadWindow = 96 * 64 * K, MaxRequestSize = 8 * 64 * K });

        Assert.Equal(FillResult.Success, await fetcher.FillAsync(0, 64 * K, sink));
        Assert.Equal(FillResult.Success, await fetcher.FillAsync(64 * K, 64 * K, sink));
        await Wait.UntilAsync(() => Enumerable.Range(2, 32).All(fetcher.IsPresent), "the background readahead");
        await Task.Delay(100);
        Assert.False(fetcher.IsPresent(34), "first window: 2 MiB");

        Assert.Equal(FillResult.Success, await fetcher.FillAsync(34 * 64 * K, 64 * K, sink));
        await Wait.UntilAsync(() => Enumerable.Range(35, 64).All(fetcher.IsPresent), "the background readahead");
        await Task.Delay(100);
        Assert.False(fetcher.IsPresent(99), "second window: 4 MiB");

        Assert.Equal(FillResult.Success, await fetcher.FillAsync(99 * 64 * K, 64 * K, sink));
        await Wait.UntilAsync(() => Enumerable.Range(100, 60).All(fetcher.IsPresent), "the background readahead");
        Assert.True(blob.Uncompressed.AsSpan().SequenceEqual(sink.Data.AsSpan(0, blob.Uncompressed.Length)));
    }

    [Fact]
    public async Task FillAsync_SequentialStream_RequestsInParallelButBounded()
    {
        var blob = TestBlob.Create(Enumerable.Repeat(64 * K, 64).ToArray(), compress: false);
        var (fetcher, reader, sink, _) = Create(
            blob, new ChunkFetcherOptions { AmplifyWindow = 0, ReadaheadWindow = 32 * 64 * K, MaxRequestSize = 64 * K, MaxStreamRequestSize = 64 * K, MaxReadaheads = 3 });
        reader.Delay = TimeSpan.FromMilliseconds(30);

        Assert.Equal(FillResult.Success, await fetcher.FillAsync(0, 64 * K, sink));
        Assert.Equal(FillResult.Success, await fetcher.FillAsync(64 * K, 64 * K, sink));
        await Wait.UntilAsync(() => Enumerable.Range(2, 32).All(fetcher.IsPresent), "the background readahead");

        // 3 background requests at once (plus, at most, the demand READ's own).
        Assert.InRange(reader.MaxInFlight, 3, 4);
        Assert.Equal(34, reader.Requests.Count);
    }

    [Fact]
    public async Task FillAsync_SequentialStream_NewPositionStartsANewStream()
    {
        var blob = TestBlob.Create(Enumerable.Repeat(64 * K, 64).ToArray(), compress: false);
        var (fetcher, reader, sink, _) = Create(blob, new ChunkFetcherOptions { AmplifyWindow = 0, ReadaheadWindow = 4 * 64 * K, MaxRequestSize = 64 * K });

        Assert.Equal(FillResult.Success, await fetcher.FillAsync(0, 64 * K, sink));
        Assert.Equal(FillResult.Success, await fetcher.FillAsync(64 * K, 64 * K, sink));
        await Wait.UntilAsync(() => Enumerable.Range(2, 4).All(fetcher.IsPresent), "the background readahead");

        // Another file, further on, read sequentially: its readahead follows it.
        Assert.Equal(FillResult.Success, await fetcher.FillAsync(40 * 64 * K, 64 * K, sink));
        Assert.Equal(FillResult.Success, await fetcher.FillAsync(41 * 64 * K, 64 * K, sink));
        await Wait.UntilAsync(() => Enumerable.Range(42, 4).All(fetcher.IsPresent), "the background readahead");
        await Task.Delay(100);
        Assert.False(fetcher.IsPresent(46));
        Assert.False(fetcher.IsPresent(6));
        Assert.Equal(12, reader.Requests.Count);
    }

    [Fact]
    public async Task FillAsync_TwoSequentialReadersSideBySide_EachKeepsItsStream()
    {
        // Two large files of one blob read at the same time (chunks 0.. and 64..), their READs interleaved.
        var blob = TestBlob.Create(Enumerable.Repeat(64 * K, 128).ToArray(), compress: false);
        var (fetcher, reader, sink, _) = Create(blob, new ChunkFetcherOptions { AmplifyWindow = 0, ReadaheadWindow = 8 * 64 * K, MaxRequestSize = 2 * 64 * K });

        Assert.Equal(FillResult.Success, await fetcher.FillAsync(0, 64 * K, sink));
        Assert.Equal(FillResult.Success, await fetcher.FillAsync(64 * 64 * K, 64 * K, sink));
        Assert.Equal(FillResult.Success, await fetcher.FillAsync(64 * K, 64 * K, sink));
        Assert.Equal(FillResult.Success, await fetcher.FillAsync(65 * 64 * K, 64 * K, sink));
        await Wait.UntilAsync(() => Enumerable.Range(2, 8).Concat(Enumerable.Range(66, 8)).All(fetcher.IsPresent), "the background readahead");

        // Each reader's next hole continues its own stream, whose window has doubled (8 -> 16 chunks is capped at 8).
        Assert.Equal(FillResult.Success, await fetcher.FillAsync(10 * 64 * K, 64 * K, sink));
        Assert.Equal(FillResult.Success, await fetcher.FillAsync(74 * 64 * K, 64 * K, sink));
        await Wait.UntilAsync(() => Enumerable.Range(11, 8).Concat(Enumerable.Range(75, 8)).All(fetcher.IsPresent), "the background readahead");
        await Task.Delay(100);
        Assert.False(fetcher.IsPresent(19));
        Assert.False(fetcher.IsPresent(83));

        var covered = new int[128];
        foreach (var (offset, length) in reader.Requests)
        {
            for (var chunk = offset / (64 * K); chunk < (offset + length) / (64 * K); chunk++)
            {
                covered[chunk]++;
            }
        }

        Assert.All(Enumerable.Range(0, 19).Concat(Enumerable.Range(64, 19)), i => Assert.Equal(1, covered[i]));
        Assert.Equal(38, covered.Sum());
    }

    [Fact]
    public async Task FillAsync_ProvenSequentialStream_RequestsGrowWithTheWindowUpToMaxStreamRequestSize()
    {
        // 320 chunks of 64 KiB stored as is; requests of 8 chunks (512 KiB) for demand READs, up to 32 (2 MiB) for a
        // stream whose window (2 MiB, doubling to 8 MiB) holds more than 4 of them.
        const int Chunk = 64 * K;
        var blob = TestBlob.Create(Enumerable.Repeat(Chunk, 320).ToArray(), compress: false);
        var (fetcher, reader, sink, _) = Create(
            blob, new ChunkFetcherOptions { AmplifyWindow = 0, ReadaheadWindow = 128 * Chunk, MaxRequestSize = 8 * Chunk, MaxStreamRequestSize = 32 * Chunk, MaxReadaheads = 4 });

        // First window, 2 MiB past chunk 1: requests of the demand size.
        Assert.Equal(FillResult.Success, await fetcher.FillAsync(0, Chunk, sink));
        Assert.Equal(FillResult.Success, await fetcher.FillAsync(Chunk, Chunk, sink));
        await Wait.UntilAsync(() => Enumerable.Range(2, 32).All(fetcher.IsPresent), "the background readahead");
        await Task.Delay(100);
        Assert.Equal([8 * Chunk], reader.Requests.Where(r => r.Offset >= 2 * Chunk).Select(r => r.Length).Distinct());

        // The reader's next hole continues the stream: the window doubles to 4 MiB, its requests to 1 MiB.
        var seen = reader.Requests.Count;
        Assert.Equal(FillResult.Success, await fetcher.FillAsync(34 * Chunk, Chunk, sink));
        await Wait.UntilAsync(() => Enumerable.Range(35, 64).All(fetcher.IsPresent), "the background readahead");
        await Task.Delay(100);
        Assert.Equal([16 * Chunk], reader.Requests.Skip(seen).Where(r => r.Offset >= 35 * Chunk).Select(r => r.Length).Distinct());

        // And again: 8 MiB, requests of MaxStreamRequestSize (2 MiB), not more.
        seen = reader.Requests.Count;
        Assert.Equal(FillResult.Success, await fetcher.FillAsync(99 * Chunk, Chunk, sink));
        await Wait.UntilAsync(() => Enumerable.Range(100, 128).All(fetcher.IsPresent), "the background readahead");
        await Task.Delay(100);
        Assert.Equal([32 * Chunk], reader.Requests.Skip(seen).Where(r => r.Offset >= 100 * Chunk).Select(r => r.Length).Distinct());
        Assert.False(fetcher.IsPresent(228), "the window is 8 MiB past the READ");
        Assert.True(blob.Uncompressed.AsSpan(0, 228 * Chunk).SequenceEqual(sink.Data.AsSpan(0, 228 * Chunk)));
    }

    [Fact]
    public async Task FillAsync_GrownStreamRequests_StoredBytesInFlightStayWithinMaxReadaheadsOfMaxRequestSize()
    {
        // Requests of 4 chunks, 4 readaheads: 16 chunks in flight. The stream's 2 MiB window lets its requests grow to
        // 8 chunks, so only 2 of them run at once.
        const int Chunk = 64 * K;
        var blob = TestBlob.Create(Enumerable.Repeat(Chunk, 64).ToArray(), compress: false);
        var (fetcher, reader, sink, _) = Create(
            blob, new ChunkFetcherOptions { AmplifyWindow = 0, ReadaheadWindow = 128 * Chunk, MaxRequestSize = 4 * Chunk, MaxStreamRequestSize = 8 * Chunk, MaxReadaheads = 4 });
        reader.Delay = TimeSpan.FromMilliseconds(50);

        Assert.Equal(FillResult.Success, await fetcher.FillAsync(0, Chunk, sink));
        Assert.Equal(FillResult.Success, await fetcher.FillAsync(Chunk, Chunk, sink));
        await Wait.UntilAsync(() => Enumerable.Range(2, 32).All(fetcher.IsPresent), "the background readahead");

        Assert.Equal([8 * Chunk], reader.Requests.Where(r => r.Offset >= 2 * Chunk).Select(r => r.Length).Distinct());
        Assert.Equal(2, reader.MaxInFlight);
        Assert.True(blob.Uncompressed.AsSpan(0, 34 * Chunk).SequenceEqual(sink.Data.AsSpan(0, 34 * Chunk)));
    }

    [Fact]
    public async Task FillAsync_RandomReadsWithDefaultOptions_KeepReadSizedRequestsAndAmplification()
    {
        // 256 chunks of 64 KiB; 4 KiB READs far apart, under the shipped options: each fetches its chunk, then its
        // amplification (1 MiB: 16 chunks) in the background, and starts no stream however large a stream's requests may grow.
        const int Chunk = 64 * K;
        var defaults = new ChunkFetcherOptions();
        var blob = TestBlob.Create(Enumerable.Repeat(Chunk, 256).ToArray(), compress: false);
        var (fetcher, reader, sink, _) = Create(blob, defaults);

        int[] chunks = [200, 10, 120, 60, 160];
        foreach (var chunk in chunks)
        {
            Assert.Equal(FillResult.Success, await fetcher.FillAsync((long)chunk * Chunk + 8 * K, 4 * K, sink));
        }

        await Wait.UntilAsync(() => chunks.All(c => Enumerable.Range(c, 16).All(fetcher.IsPresent)), "the background readahead");
        await Task.Delay(200);

        Assert.All(reader.Requests, r => Assert.True(r.Length <= defaults.AmplifyWindow, $"request of {r.Length} bytes at {r.Offset}"));
        Assert.Equal(chunks.Length * 16, Enumerable.Range(0, 256).Count(fetcher.IsPresent));
        Assert.Equal(chunks.Length * 2, reader.Requests.Count);
        foreach (var chunk in chunks)
        {
            AssertRangeMatches(blob, sink, (long)chunk * Chunk, 16 * Chunk);
        }
    }

    [Fact]
    public async Task FillAsync_RandomRead_NoReadahead()
    {
        var blob = TestBlob.Create(Enumerable.Repeat(64 * K, 16).ToArray(), compress: false);
        var (fetcher, reader, sink, _) = Create(blob, new ChunkFetcherOptions { AmplifyWindow = 0, ReadaheadWindow = 4 * 64 * K });

        Assert.Equal(FillResult.Success, await fetcher.FillAsync(8 * 64 * K, 4096, sink));
        await Task.Delay(100);

        Assert.Single(reader.Requests);
        Assert.Equal(1, Enumerable.Range(0, 16).Count(fetcher.IsPresent));
    }
}
