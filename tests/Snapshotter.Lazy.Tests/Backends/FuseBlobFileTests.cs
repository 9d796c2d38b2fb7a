using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Snapshotter.Cache.Fetching;
using Snapshotter.Fuse;
using Snapshotter.Lazy.Backends;
using Snapshotter.Lazy.Blobs;
using Snapshotter.Lazy.Images;
using Snapshotter.Lazy.Tests.Fuse;
using Snapshotter.Lazy.Tests.Infrastructure;
using Snapshotter.Registry;
using Snapshotter.Registry.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Snapshotter.Lazy.Tests.Backends;

/// <summary>
/// A blob file's READs without the kernel in between, against the real registry (through the fault proxy, which sees
/// every request): an interrupted READ ends alone, and failed chunks are held briefly for the failed thread's retries,
/// then fetched again.
/// </summary>
[Collection(FuseRegistryCollection.Name)]
public sealed class FuseBlobFileTests(FuseRegistryFixture fixture, ITestOutputHelper output)
{
    private const int Page = 4096;

    // Far from the first chunk read (1 MiB chunks, 24 MiB file at the blob's start): no readahead or amplification reaches it.
    private const long Far = 16L * 1024 * 1024;

    // Reading threads as FUSE reports them (fuse_in_header.pid).
    private static readonly FuseCaller Reader = new(4242);
    private static readonly FuseCaller OtherReader = new(4343);
    private static readonly FuseCaller NewReader = new(4444);

    private static readonly RegistryClientOptions Client = new()
    {
        HostsDirectory = null,
        AttemptTimeout = TimeSpan.FromSeconds(1),
        OverallTimeout = TimeSpan.FromSeconds(8),
    };

    [Fact]
    public async Task ReadAsync_InterruptedWhileAnotherReadWaitsOnTheSameChunk_OnlyTheInterruptedReadEnds()
    {
        await using var blobs = await BlobsAsync();
        using var file = blobs.NewFile();
        Assert.True((await file.ReadAsync(0, new byte[Page], CancellationToken.None)).BytesRead == Page);
        var expected = await blobs.ReferenceAsync(Far, Page);

        // The next blob GET stalls after its headers until the attempt timeout (1 s), then the client retries.
        fixture.Proxy.Enqueue(new Fault(FaultKind.StallBody));
        using var interrupt = new CancellationTokenSource();
        var interrupted = file.ReadAsync(Far, new byte[Page], interrupt.Token).AsTask();
        var other = new byte[Page];
        var waiting = file.ReadAsync(Far, other, CancellationToken.None).AsTask();
        await Task.Delay(300);
        Assert.False(interrupted.IsCompleted || waiting.IsCompleted, "the stalled fetch completed before the interrupt");

        var watch = Stopwatch.StartNew();
        interrupt.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => interrupted.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(0.5), $"the interrupted READ ended after {watch.Elapsed.TotalMilliseconds:F0} ms");

        // The fetch both READs shared goes on (its retry succeeds): the other READ gets the data, no error.
        var result = await waiting.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.False(result.IsError, $"the READ that was not interrupted failed with errno {result.Errno}");
        Assert.Equal(expected, other);
        Assert.Equal(0, fixture.Proxy.PendingFaults);
    }

    [Fact]
    public async Task ReadAsync_FetchFailed_RetriesOfThatThreadFailAtOnceOtherThreadsAndChunksAndLaterReadsFetch()
    {
        await using var blobs = await BlobsAsync();
        using var file = blobs.NewFile();
        Assert.True((await file.ReadAsync(0, new byte[Page], Reader, CancellationToken.None)).BytesRead == Page);
        var expectedFar = await blobs.ReferenceAsync(Far, Page);
        var expectedOther = await blobs.ReferenceAsync(Far + (4L * 1024 * 1024), Page);

        await fixture.StopRegistryAsync();
        try
        {
            Assert.True((await file.ReadAsync(Far, new byte[Page], Reader, CancellationToken.None)).IsError, "a READ with the registry down succeeded");

            // The kernel's retry of that read (same thread, same chunk, a page further): answered without asking the registry.
            var requests = fixture.Proxy.Seen.Count;
            var watch = Stopwatch.StartNew();
            Assert.True((await file.ReadAsync(Far + Page, new byte[Page], Reader, CancellationToken.None)).IsError);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(0.2), $"the held READ took {watch.Elapsed.TotalMilliseconds:F0} ms");
            Assert.Equal(requests, fixture.Proxy.Seen.Count);

            // Another thread's READ of the same chunk is a new read: it asks the registry (still down).
            Assert.True((await file.ReadAsync(Far, new byte[Page], OtherReader, CancellationToken.None)).IsError);
            Assert.True(fixture.Proxy.Seen.Count > requests, "another thread's READ was held");
        }
        finally
        {
            await fixture.StartRegistryAsync();
        }

        // The registry is back: a new reader of the failed chunk gets it at once, as does any reader of another chunk.
        var again = new byte[Page];
        var againResult = await file.ReadAsync(Far, again, NewReader, CancellationToken.None);
        Assert.False(againResult.IsError, $"errno {againResult.Errno}");
        Assert.Equal(expectedFar, again);
        var other = new byte[Page];
        var otherResult = await file.ReadAsync(Far + (4L * 1024 * 1024), other, Reader, CancellationToken.None);
        Assert.False(otherResult.IsError, $"errno {otherResult.Errno}");
        Assert.Equal(expectedOther, other);
    }

    [Fact]
    public async Task ReadAsync_HoldIsOver_TheFailedThreadFetchesAgain()
    {
        await using var blobs = await BlobsAsync();
        using var file = blobs.NewFile();
        Assert.True((await file.ReadAsync(0, new byte[Page], Reader, CancellationToken.None)).BytesRead == Page);
        var expected = await blobs.ReferenceAsync(Far, Page);

        await fixture.StopRegistryAsync();
        try
        {
            Assert.True((await file.ReadAsync(Far, new byte[Page], Reader, CancellationToken.None)).IsError);
        }
        finally
        {
            await fixture.StartRegistryAsync();
        }

        await Task.Delay(ChunkFailureHold.DefaultDuration);
        var data = new byte[Page];
        var result = await file.ReadAsync(Far, data, Reader, CancellationToken.None);
        Assert.False(result.IsError, $"errno {result.Errno}");
        Assert.Equal(expected, data);
    }

    [Fact]
    public async Task ReadAsync_ChunkTableReadFailed_RetryOfThatThreadFailsAtOnceAnotherThreadReadsTheTable()
    {
        await using var blobs = await BlobsAsync();
        using var file = blobs.NewFile();
        var expected = await blobs.ReferenceAsync(0, Page);

        await fixture.StopRegistryAsync();
        try
        {
            Assert.True((await file.ReadAsync(0, new byte[Page], Reader, CancellationToken.None)).IsError);
            var requests = fixture.Proxy.Seen.Count;
            var watch = Stopwatch.StartNew();
            Assert.True((await file.ReadAsync(0, new byte[Page], Reader, CancellationToken.None)).IsError);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(0.2), $"the held READ took {watch.Elapsed.TotalMilliseconds:F0} ms");
            Assert.Equal(requests, fixture.Proxy.Seen.Count);
        }
        finally
        {
            await fixture.StartRegistryAsync();
        }

        var data = new byte[Page];
        var result = await file.ReadAsync(0, data, OtherReader, CancellationToken.None);
        Assert.False(result.IsError, $"errno {result.Errno}");
        Assert.Equal(expected, data);
    }

    private async Task<BlobFiles> BlobsAsync()
    {
        var harness = await LazyHarness.StartAsync(output, LazyMode.BlobFetch, Client);
        try
        {
            var image = await harness.ResolveAsync(fixture.ProxyReference);
            var lazy = new LazyImageResolver(new LazyBlobRegistry(), harness.Client).Open(image);
            var blob = lazy.Blobs.Single(b => b.Digest == fixture.Converted.BigBlob.Digest);
            return new BlobFiles(harness, blob, output);
        }
        catch
        {
            await harness.DisposeAsync();
            throw;
        }
    }

    /// <summary>FuseBlobFiles of the big file's blob, each on a sparse file of its own, sharing one registry client.</summary>
    private sealed class BlobFiles(LazyHarness harness, LazyBlob blob, ITestOutputHelper output) : IAsyncDisposable
    {
        private readonly ILoggerFactory _loggers = LoggerFactory.Create(b => b.AddProvider(new Snapshotter.KernelTests.TestOutputLoggerProvider(output)).SetMinimumLevel(LogLevel.Debug));
        private readonly BlobFetcherFactory _fetchers = new(harness.Client, new ChunkFetcherOptions(), harness.Metrics, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        private int _files;

        public FuseBlobFile NewFile() =>
            new(blob, Path.Combine(harness.Root, $"blob{Interlocked.Increment(ref _files)}.sparse"), _fetchers, harness.Metrics, _loggers.CreateLogger("fuse"));

        /// <summary>What a READ of a fresh file answers with the registry up: the expected bytes.</summary>
        public async Task<byte[]> ReferenceAsync(long offset, int length)
        {
            using var file = NewFile();
            var data = new byte[length];
            var result = await file.ReadAsync(offset, data, CancellationToken.None);
            Assert.Equal(length, result.BytesRead);
            return data;
        }

        public async ValueTask DisposeAsync()
        {
            _loggers.Dispose();
            await harness.DisposeAsync();
        }
    }
}
