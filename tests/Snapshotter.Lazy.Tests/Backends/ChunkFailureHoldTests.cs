using Microsoft.Extensions.Logging.Abstractions;
using Snapshotter.Cache.Chunks;
using Snapshotter.Cache.Fetching;
using Snapshotter.Erofs;
using Snapshotter.Lazy.Backends;
using Snapshotter.Lazy.Blobs;
using Snapshotter.Oci;
using Snapshotter.Registry.Tests.Infrastructure;
using Snapshotter.Telemetry;

namespace Snapshotter.Lazy.Tests.Backends;

/// <summary>
/// The failure hold on a real chunk fetcher over a local stored blob of four uncompressed 4 KiB chunks: which READs
/// it holds, for how long, and that a chunk made present is released at once.
/// </summary>
public sealed class ChunkFailureHoldTests : IDisposable
{
    private const int Chunk = 4096;

    // Thread ids as FUSE reports them: the failed reader, and another one.
    private const uint Reader = 4242;
    private const uint Other = 4343;
    private readonly TempDirectory _dir = new("lazy-tests-hold");
    private readonly SnapshotterMetrics _metrics = new();
    private readonly FileBlobRangeReader _reader;
    private readonly BlobChunkFetcher _fetcher;

    public ChunkFailureHoldTests()
    {
        var stored = _dir.Combine("stored");
        File.WriteAllBytes(stored, Enumerable.Range(0, 4 * Chunk).Select(i => (byte)(i / Chunk)).ToArray());
        _reader = new FileBlobRangeReader(stored);
        var entries = Enumerable.Range(0, 4).Select(i => new ChunkEntry(i * Chunk, Chunk, i * Chunk, Chunk, false)).ToArray();
        var options = new ChunkFetcherOptions { ReadaheadWindow = 0, AmplifyWindow = 0 };
        _fetcher = new BlobChunkFetcher(new ChunkTable(entries, null, ChunkDigester.Sha256, 4 * Chunk, 4 * Chunk), _reader, new CodecDecompressor(ChunkCompressor.None), options, _metrics, NullLogger.Instance);
    }

    public void Dispose()
    {
        _reader.Dispose();
        _metrics.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public void IsHeld_ChunkOfAFailedRead_HeldOthersNot()
    {
        var hold = new ChunkFailureHold(TimeSpan.FromMinutes(1));
        Assert.False(hold.IsHeld(_fetcher, 0, 4 * Chunk, Reader));

        // A READ of chunks 1..2 failed.
        hold.Remember(_fetcher, Chunk + 100, Chunk, Reader);

        Assert.True(hold.IsHeld(_fetcher, Chunk, 512, Reader));
        Assert.True(hold.IsHeld(_fetcher, 2 * Chunk, Chunk, Reader));
        Assert.True(hold.IsHeld(_fetcher, 0, 4 * Chunk, Reader), "a READ that needs a held chunk among others is held");
        Assert.False(hold.IsHeld(_fetcher, 0, Chunk, Reader));
        Assert.False(hold.IsHeld(_fetcher, 3 * Chunk, Chunk, Reader));
    }

    [Fact]
    public void IsHeld_AnotherThread_NotHeldUnlessEitherIsUnknown()
    {
        var hold = new ChunkFailureHold(TimeSpan.FromMinutes(1));
        hold.Remember(_fetcher, 0, Chunk, Reader);
        hold.RememberTableFailure(Reader);

        // Another thread's READ is a new read: it fetches (the registry may be back).
        Assert.False(hold.IsHeld(_fetcher, 0, Chunk, Other));
        Assert.False(hold.IsTableHeld(Other));

        // A READ the kernel gives no thread for is taken as a retry; a failure of no known thread holds everyone.
        Assert.True(hold.IsHeld(_fetcher, 0, Chunk, 0));
        hold.Remember(_fetcher, Chunk, Chunk, 0);
        Assert.True(hold.IsHeld(_fetcher, Chunk, Chunk, Other));
    }

    [Fact]
    public async Task IsHeld_ChunkBecamePresent_NotHeld()
    {
        var hold = new ChunkFailureHold(TimeSpan.FromMinutes(1));
        hold.Remember(_fetcher, Chunk, 2 * Chunk, Reader);
        using var file = File.OpenHandle(_dir.Combine("sparse"), FileMode.Create, FileAccess.ReadWrite);

        // Another READ (after a readahead, say) fetched chunk 1.
        Assert.True((await _fetcher.FillAsync(Chunk, Chunk, new FileChunkSink(file))).IsSuccess);

        Assert.False(hold.IsHeld(_fetcher, Chunk, Chunk, Reader));
        Assert.True(hold.IsHeld(_fetcher, 2 * Chunk, Chunk, Reader));
    }

    [Fact]
    public async Task IsHeld_AfterTheDuration_NotHeld()
    {
        var hold = new ChunkFailureHold(TimeSpan.FromMilliseconds(200));
        hold.Remember(_fetcher, 0, Chunk, Reader);
        hold.RememberTableFailure(Reader);
        Assert.True(hold.IsHeld(_fetcher, 0, Chunk, Reader));
        Assert.True(hold.IsTableHeld(Reader));

        await Task.Delay(400);

        Assert.False(hold.IsHeld(_fetcher, 0, Chunk, Reader));
        Assert.False(hold.IsTableHeld(Reader));
    }

    [Fact]
    public void Remember_ConcurrentFailures_EveryChunkHeld()
    {
        var hold = new ChunkFailureHold(TimeSpan.FromMinutes(1));

        // The per-chunk array is created by whichever failure comes first: none may be lost.
        Parallel.For(0, 4, i => hold.Remember(_fetcher, i * Chunk, Chunk, Reader));

        for (var i = 0; i < 4; i++)
        {
            Assert.True(hold.IsHeld(_fetcher, i * Chunk, Chunk, Reader), $"chunk {i}");
        }
    }
}
