namespace Snapshotter.Fuse.Session;

/// <summary>
/// READs in flight by unique, for INTERRUPT. An INTERRUPT can be read by another device reader before the thread
/// that read its target has registered it (the kernel queues it as soon as the target was copied out), so an
/// unknown target is remembered for a while and honoured when it registers. Plain dictionaries under one lock:
/// adding and removing allocate nothing once grown.
/// </summary>
internal sealed class InFlightReads
{
    private static readonly long EarlyInterruptTtl = TimeSpan.FromSeconds(30).Ticks;

    private readonly Lock _lock = new();
    private readonly Dictionary<ulong, FuseReadOperation> _reads = [];
    private readonly Dictionary<ulong, long> _earlyInterrupts = [];

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _reads.Count;
            }
        }
    }

    /// <summary>Registers a READ; false when an INTERRUPT for it already arrived (then it must be answered EINTR).</summary>
    public bool TryRegister(FuseReadOperation operation)
    {
        lock (_lock)
        {
            if (_earlyInterrupts.Count > 0 && _earlyInterrupts.Remove(operation.Unique))
            {
                return false;
            }

            _reads.Add(operation.Unique, operation);
            return true;
        }
    }

    public void Unregister(FuseReadOperation operation)
    {
        lock (_lock)
        {
            if (_reads.TryGetValue(operation.Unique, out var registered) && ReferenceEquals(registered, operation))
            {
                _reads.Remove(operation.Unique);
            }
        }
    }

    /// <summary>
    /// INTERRUPT of <paramref name="unique"/>: claims the reply and answers EINTR through <paramref name="answer"/>,
    /// then cancels the file's read. Returns whether this interrupt answered it.
    /// </summary>
    public bool Interrupt(ulong unique, long nowTicks, Action<FuseReadOperation> answer)
    {
        lock (_lock)
        {
            if (!_reads.TryGetValue(unique, out var operation))
            {
                RememberEarly(unique, nowTicks);
                return false;
            }

            var answered = false;
            if (operation.TryClaim())
            {
                _reads.Remove(unique);
                answer(operation);
                answered = true;
            }

            // Last: cancellation callbacks may run the read's completion inline, which returns it to the pool.
            operation.Cancel();
            return answered;
        }
    }

    /// <summary>Cancels every READ in flight (shutdown; the device readers have stopped, so none is reused meanwhile).</summary>
    public void CancelAll()
    {
        FuseReadOperation[] all;
        lock (_lock)
        {
            all = [.. _reads.Values];
        }

        foreach (var operation in all)
        {
            operation.Cancel();
        }
    }

    private void RememberEarly(ulong unique, long nowTicks)
    {
        if (_earlyInterrupts.Count > 64)
        {
            foreach (var (key, at) in _earlyInterrupts)
            {
                if (nowTicks - at > EarlyInterruptTtl)
                {
                    _earlyInterrupts.Remove(key);
                }
            }
        }

        _earlyInterrupts[unique] = nowTicks;
    }
}
