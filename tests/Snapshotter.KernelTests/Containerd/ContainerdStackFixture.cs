namespace Snapshotter.KernelTests.Containerd;

/// <summary>
/// One <see cref="ContainerdStack"/> per test class, started by the class's first test (it needs the collection's
/// <see cref="LazyVmImages"/>, which xunit 2 cannot hand to a class fixture) and stopped after the class.
/// </summary>
public abstract class ContainerdStackFixture : IAsyncLifetime
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private ContainerdStack? _stack;
    private Exception? _failed;

    /// <summary>The <c>--lazy-mode</c> the service runs with.</summary>
    protected abstract string LazyMode { get; }

    /// <summary>Whether the cache directory is on tmpfs (cachefiles refuses it) rather than the ext4 scratch disk.</summary>
    protected abstract bool CacheOnTmpfs { get; }

    internal async Task<ContainerdStack> GetAsync(LazyVmImages images)
    {
        await _gate.WaitAsync();
        try
        {
            // A stack that failed to start fails every test of the class with the same cause, without retrying for minutes.
            if (_failed is not null)
            {
                throw new InvalidOperationException("the containerd stack failed to start", _failed);
            }

            try
            {
                return _stack ??= await ContainerdStack.StartAsync(images, LazyMode, CacheOnTmpfs);
            }
            catch (Exception e)
            {
                _failed = e;
                throw;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_stack is not null)
        {
            await _stack.DisposeAsync();
        }

        _gate.Dispose();
    }
}
