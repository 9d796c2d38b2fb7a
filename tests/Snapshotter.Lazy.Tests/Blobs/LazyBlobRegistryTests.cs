using Snapshotter.Lazy.Blobs;
using Snapshotter.Lazy.Tests.Infrastructure;

namespace Snapshotter.Lazy.Tests.Blobs;

public sealed class LazyBlobRegistryTests
{
    private sealed class SyncState : IDisposable
    {
        public int Disposed;

        public void Dispose() => Interlocked.Increment(ref Disposed);
    }

    private sealed class AsyncState : IAsyncDisposable
    {
        public int Disposed;

        public async ValueTask DisposeAsync()
        {
            await Task.Yield();
            Interlocked.Increment(ref Disposed);
        }
    }

    private sealed class CountedState : IDisposable
    {
        private readonly Action _disposed;

        public CountedState(Action disposed) => _disposed = disposed;

        public void Dispose() => _disposed();
    }

    [Fact]
    public async Task Acquire_TwiceThenReleaseOnce_BlobStaysAndIsShared()
    {
        var registry = new LazyBlobRegistry();
        var digest = TestBlobs.Digest(1);
        var created = 0;

        var first = registry.Acquire(digest, () => { created++; return TestBlobs.Create(digest); });
        var second = registry.Acquire(digest, () => { created++; return TestBlobs.Create(digest); });
        await registry.ReleaseAsync(first);

        Assert.Same(first, second);
        Assert.Equal(1, created);
        Assert.Equal(1, registry.Count);
        Assert.True(registry.IsInUse(digest));
        Assert.True(registry.TryGet(digest, out var found));
        Assert.Same(first, found);
    }

    [Fact]
    public async Task ReleaseAsync_LastReference_RemovesBlobAndDisposesSyncAndAsyncStates()
    {
        var registry = new LazyBlobRegistry();
        var digest = TestBlobs.Digest(2);
        var blob = registry.Acquire(digest, () => TestBlobs.Create(digest));
        registry.Acquire(digest, () => throw new InvalidOperationException("must not create a second blob"));
        var sync = blob.GetState(_ => new SyncState());
        var async = blob.GetState(_ => new AsyncState());
        Assert.Same(sync, blob.GetState<SyncState>(_ => throw new InvalidOperationException("state created twice")));

        await registry.ReleaseAsync(blob);
        Assert.Equal(0, sync.Disposed);
        Assert.Equal(0, async.Disposed);

        await registry.ReleaseAsync(blob);

        Assert.Equal(1, sync.Disposed);
        Assert.Equal(1, async.Disposed);
        Assert.Equal(0, registry.Count);
        Assert.False(registry.IsInUse(digest));
        Assert.False(registry.TryGet(digest, out _));
        Assert.Null(blob.FindState<SyncState>());
        Assert.Null(blob.FindState<AsyncState>());
    }

    [Fact]
    public async Task Acquire_AfterLastRelease_CreatesAFreshBlob()
    {
        var registry = new LazyBlobRegistry();
        var digest = TestBlobs.Digest(3);
        var old = registry.Acquire(digest, () => TestBlobs.Create(digest));
        await registry.ReleaseAsync(old);

        var fresh = registry.Acquire(digest, () => TestBlobs.Create(digest));

        Assert.NotSame(old, fresh);
        Assert.True(registry.TryGet(digest, out var found));
        Assert.Same(fresh, found);
    }

    [Fact]
    public void TryGet_UnknownDigest_FalseAndNotInUse()
    {
        var registry = new LazyBlobRegistry();
        var digest = TestBlobs.Digest(4);
        registry.Acquire(digest, () => TestBlobs.Create(digest));

        Assert.False(registry.TryGet(TestBlobs.Digest(5), out _));
        Assert.False(registry.IsInUse(TestBlobs.Digest(5)));
        Assert.True(registry.IsInUse(digest));
    }

    [Fact]
    public async Task AcquireRelease_ManyConcurrentTasks_CountsBalanceAndEveryStateIsDisposedOnce()
    {
        var registry = new LazyBlobRegistry();
        var digests = Enumerable.Range(100, 4).Select(TestBlobs.Digest).ToArray();

        // One long-lived holder of digests[0]: that blob must survive the storm as the same instance.
        var held = registry.Acquire(digests[0], () => TestBlobs.Create(digests[0]));
        var created = 0;
        var disposed = 0;
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var workers = Enumerable.Range(0, 32).Select(worker => Task.Run(async () =>
        {
            await start.Task;
            var random = new Random(worker);
            for (var i = 0; i < 500; i++)
            {
                var digest = digests[random.Next(digests.Length)];
                var blob = registry.Acquire(digest, () => TestBlobs.Create(digest));
                Assert.True(registry.IsInUse(digest));
                blob.GetState(_ =>
                {
                    Interlocked.Increment(ref created);
                    return new CountedState(() => Interlocked.Increment(ref disposed));
                });
                if (random.Next(4) == 0)
                {
                    await Task.Yield();
                }

                await registry.ReleaseAsync(blob);
            }
        })).ToArray();

        start.SetResult();
        await Task.WhenAll(workers);

        Assert.Equal(1, registry.Count);
        Assert.True(registry.TryGet(digests[0], out var survivor));
        Assert.Same(held, survivor);
        Assert.Equal(1, held.References);

        await registry.ReleaseAsync(held);
        Assert.Equal(0, registry.Count);
        Assert.True(created > 0);
        Assert.Equal(created, disposed);
    }
}
