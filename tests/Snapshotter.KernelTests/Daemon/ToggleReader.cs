using System.Collections.Concurrent;
using Snapshotter.Cache.Fetching;

namespace Snapshotter.KernelTests.Daemon;

/// <summary>A blob reader that can be switched off (a registry that went away) and records what it served.</summary>
internal sealed class ToggleReader(IBlobRangeReader inner) : IBlobRangeReader
{
    public volatile bool Down;

    public ConcurrentQueue<(long Offset, int Length)> Served { get; } = new();

    public async ValueTask ReadAsync(long offset, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        if (Down)
        {
            await Task.Delay(50, cancellationToken);
            throw new HttpRequestException("registry unreachable (test)");
        }

        await inner.ReadAsync(offset, destination, cancellationToken);
        Served.Enqueue((offset, destination.Length));
    }
}
