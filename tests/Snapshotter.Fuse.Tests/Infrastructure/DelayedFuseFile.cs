using Microsoft.Win32.SafeHandles;

namespace Snapshotter.Fuse.Tests.Infrastructure;

/// <summary>Serves another file's bytes after an asynchronous delay (a network fetch) and records peak concurrency.</summary>
internal sealed class DelayedFuseFile(IFuseFile inner, TimeSpan delay) : IFuseFile
{
    private int _inFlight;
    private int _peak;

    public string Name => inner.Name;

    public long Size => inner.Size;

    /// <summary>The most reads that were in flight at once.</summary>
    public int PeakConcurrency => Volatile.Read(ref _peak);

    public async ValueTask<FuseReadResult> ReadAsync(long offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        var now = Interlocked.Increment(ref _inFlight);
        int peak;
        while ((peak = Volatile.Read(ref _peak)) < now && Interlocked.CompareExchange(ref _peak, now, peak) != peak)
        {
        }

        try
        {
            await Task.Delay(delay, cancellationToken);
            return await inner.ReadAsync(offset, destination, cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    public SafeFileHandle? GetPassthroughHandle() => null;
}
