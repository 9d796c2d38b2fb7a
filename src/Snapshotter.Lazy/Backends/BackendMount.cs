namespace Snapshotter.Lazy.Backends;

/// <summary>A backend's mount handle: runs the unmount exactly once.</summary>
internal sealed class BackendMount(Func<ValueTask> unmount) : IAsyncDisposable
{
    private int _disposed;

    public ValueTask DisposeAsync() => Interlocked.Exchange(ref _disposed, 1) == 0 ? unmount() : ValueTask.CompletedTask;
}
