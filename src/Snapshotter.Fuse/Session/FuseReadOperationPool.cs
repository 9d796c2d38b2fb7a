namespace Snapshotter.Fuse.Session;

/// <summary>
/// Reusable READ operations (each with its reply buffer). Grows to the concurrency the kernel asks for and keeps
/// at most <c>retain</c> idle ones; the rest are freed on return.
/// </summary>
internal sealed class FuseReadOperationPool(IFuseReadCompletion owner, int maxRead, int retain) : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Stack<FuseReadOperation> _idle = new();
    private bool _disposed;

    public FuseReadOperation Rent()
    {
        lock (_lock)
        {
            if (_idle.TryPop(out var operation))
            {
                return operation;
            }
        }

        return new FuseReadOperation(owner, maxRead);
    }

    public void Return(FuseReadOperation operation)
    {
        lock (_lock)
        {
            if (!_disposed && _idle.Count < retain)
            {
                _idle.Push(operation);
                return;
            }
        }

        operation.Dispose();
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            while (_idle.TryPop(out var operation))
            {
                operation.Dispose();
            }
        }
    }
}
