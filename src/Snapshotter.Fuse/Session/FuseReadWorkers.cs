namespace Snapshotter.Fuse.Session;

/// <summary>
/// Dedicated threads that start READs handed over by the device readers, so those go straight back to the device.
/// A queue under a lock plus a semaphore allocate nothing per READ (queueing to the thread pool from a non-pool
/// thread costs an object per item, measured). A READ that completes asynchronously continues on the thread pool.
/// </summary>
internal sealed class FuseReadWorkers : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Queue<FuseReadOperation> _queue = new(256);
    private readonly SemaphoreSlim _signal = new(0);
    private readonly Thread[] _threads;
    private volatile bool _stopping;

    public FuseReadWorkers(int count)
    {
        _threads = new Thread[Math.Max(1, count)];
        for (var i = 0; i < _threads.Length; i++)
        {
            _threads[i] = new Thread(Loop) { IsBackground = true, Name = $"fuse-read-{i}" };
            _threads[i].Start();
        }
    }

    public void Enqueue(FuseReadOperation operation)
    {
        lock (_lock)
        {
            _queue.Enqueue(operation);
        }

        _signal.Release();
    }

    /// <summary>Lets the workers finish what is queued, then ends them.</summary>
    public void Dispose()
    {
        _stopping = true;
        _signal.Release(_threads.Length);
        foreach (var thread in _threads)
        {
            thread.Join(TimeSpan.FromSeconds(5));
        }

        _signal.Dispose();
    }

    private void Loop()
    {
        while (true)
        {
            _signal.Wait();
            FuseReadOperation? operation;
            lock (_lock)
            {
                if (!_queue.TryDequeue(out operation))
                {
                    if (_stopping)
                    {
                        return;
                    }

                    continue;
                }
            }

            ((IThreadPoolWorkItem)operation).Execute();
        }
    }
}
