using Snapshotter.Cache.Chunks;
using Snapshotter.Lazy.Tests.Infrastructure;

namespace Snapshotter.Lazy.Tests.Blobs;

public sealed class LazyBlobTests
{
    [Fact]
    public async Task GetChunkTableAsync_ConcurrentCallers_OneLoaderCall()
    {
        var calls = 0;
        var release = new TaskCompletionSource<ChunkTable>(TaskCreationOptions.RunContinuationsAsynchronously);
        var blob = TestBlobs.Create(TestBlobs.Digest(10), (_, _) =>
        {
            Interlocked.Increment(ref calls);
            return release.Task;
        });

        var callers = Enumerable.Range(0, 16).Select(_ => Task.Run(() => blob.GetChunkTableAsync())).ToArray();
        await Task.Delay(100);
        Assert.All(callers, c => Assert.False(c.IsCompleted));
        var table = TestBlobs.OneChunkTable();
        release.SetResult(table);
        var tables = await Task.WhenAll(callers);

        Assert.Equal(1, calls);
        Assert.All(tables, t => Assert.Same(table, t));
        Assert.Same(table, await blob.GetChunkTableAsync());
        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task GetChunkTableAsync_LoadFailed_NextCallerLoadsAgain()
    {
        var calls = 0;
        var blob = TestBlobs.Create(TestBlobs.Digest(11), (_, _) =>
            Interlocked.Increment(ref calls) == 1
                ? Task.FromException<ChunkTable>(SnapshotterException.Unavailable("registry down"))
                : Task.FromResult(TestBlobs.OneChunkTable()));

        var e = await Assert.ThrowsAsync<SnapshotterException>(() => blob.GetChunkTableAsync());
        Assert.Equal(ErrorKind.Unavailable, e.Kind);

        var table = await blob.GetChunkTableAsync();

        Assert.Equal(1, table.Count);
        Assert.Equal(2, calls);
    }

    [Fact]
    public async Task GetChunkTableAsync_WaiterCancelled_SharedLoadGoesOnForTheOthers()
    {
        var calls = 0;
        CancellationToken loaderToken = default;
        var release = new TaskCompletionSource<ChunkTable>(TaskCreationOptions.RunContinuationsAsynchronously);
        var blob = TestBlobs.Create(TestBlobs.Digest(12), (_, ct) =>
        {
            Interlocked.Increment(ref calls);
            loaderToken = ct;
            return release.Task;
        });
        using var cts = new CancellationTokenSource();

        var cancelled = blob.GetChunkTableAsync(cts.Token);
        var patient = blob.GetChunkTableAsync();
        cts.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.False(patient.IsCompleted);
        Assert.False(loaderToken.CanBeCanceled, "the shared load must not run on a caller's token");
        var table = TestBlobs.OneChunkTable();
        release.SetResult(table);

        Assert.Same(table, await patient);
        Assert.Same(table, await blob.GetChunkTableAsync());
        Assert.Equal(1, calls);
    }

    [Fact]
    public void Hex_Digest_IsTheSixtyFourHexCharacters()
    {
        var digest = TestBlobs.Digest(13);
        var blob = TestBlobs.Create(digest);

        Assert.Equal(64, blob.Hex.Length);
        Assert.Equal(digest, "sha256:" + blob.Hex);
    }
}
