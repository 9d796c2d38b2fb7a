using System.Diagnostics;

namespace Snapshotter.P1.Benchmarks.Proxy;

/// <summary>
/// One direction of a throttled link: a token bucket in bytes, refilled at <see cref="BytesPerSecond"/>, holding at most
/// <see cref="Burst"/> bytes when idle. A taker may drive the bucket into debt and then waits until it is repaid, so
/// concurrent connections share the rate in arrival order and coarse timer wake-ups do not change the average rate.
/// </summary>
internal sealed class TokenBucket
{
    private readonly Lock _lock = new();
    private double _bytesPerSecond;
    private double _tokens;
    private long _last = Stopwatch.GetTimestamp();

    /// <summary>The rate; 0 means unlimited.</summary>
    public double BytesPerSecond
    {
        get => _bytesPerSecond;
        set
        {
            lock (_lock)
            {
                _bytesPerSecond = value;
                _tokens = 0;
                _last = Stopwatch.GetTimestamp();
            }
        }
    }

    /// <summary>Bytes an idle link may send at once: 2 ms of the rate, at least 16 KiB.</summary>
    public double Burst => Math.Max(16 * 1024, _bytesPerSecond * 0.002);

    /// <summary>Takes <paramref name="bytes"/>; completes when the link would have carried them.</summary>
    public ValueTask TakeAsync(int bytes, CancellationToken cancellationToken)
    {
        double wait;
        lock (_lock)
        {
            if (_bytesPerSecond <= 0)
            {
                return ValueTask.CompletedTask;
            }

            var now = Stopwatch.GetTimestamp();
            _tokens = Math.Min(Burst, _tokens + (Stopwatch.GetElapsedTime(_last, now).TotalSeconds * _bytesPerSecond));
            _last = now;
            _tokens -= bytes;
            if (_tokens >= 0)
            {
                return ValueTask.CompletedTask;
            }

            wait = -_tokens / _bytesPerSecond;
        }

        return new ValueTask(Task.Delay(TimeSpan.FromSeconds(wait), cancellationToken));
    }
}
