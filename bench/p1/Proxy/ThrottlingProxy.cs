using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Snapshotter.P1.Benchmarks.Proxy;

/// <summary>
/// A TCP proxy in front of the registry that behaves like a link of a given rate: one token bucket per direction shared
/// by all connections, bytes counted both ways, and every HTTP request that passes traced (what, when, how many
/// response bytes). Everything the pulls fetch - containerd's, ctr's and our service's - goes through it.
/// </summary>
internal sealed partial class ThrottlingProxy : IAsyncDisposable
{
    private readonly IPEndPoint _upstream;
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly TokenBucket _down = new();
    private readonly TokenBucket _up = new();
    private readonly ConcurrentDictionary<int, Connection> _connections = new();
    private readonly ConcurrentQueue<RequestRecord> _trace = new();
    private readonly Task _accepting;
    private long _bytesDown;
    private long _bytesUp;
    private int _nextConnection;

    public ThrottlingProxy(IPEndPoint upstream)
    {
        _upstream = upstream;
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(128);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _accepting = AcceptLoopAsync();
    }

    public int Port { get; }

    /// <summary>The link rate in bits per second, each direction; 0 means unlimited.</summary>
    public long BitsPerSecond
    {
        get => (long)(_down.BytesPerSecond * 8);
        set
        {
            _down.BytesPerSecond = value / 8.0;
            _up.BytesPerSecond = value / 8.0;
        }
    }

    /// <summary>Bytes sent from the registry to clients since the last <see cref="Reset"/> (response headers and bodies).</summary>
    public long BytesDown => Interlocked.Read(ref _bytesDown);

    /// <summary>Bytes sent from clients to the registry since the last <see cref="Reset"/>.</summary>
    public long BytesUp => Interlocked.Read(ref _bytesUp);

    /// <summary>Requests since the last <see cref="Reset"/>, in arrival order.</summary>
    public IReadOnlyList<RequestRecord> Trace => [.. _trace];

    /// <summary>Closes every connection and zeroes the counters and the trace: the next sample starts on new connections.</summary>
    public void Reset()
    {
        foreach (var (id, connection) in _connections)
        {
            if (_connections.TryRemove(id, out _))
            {
                connection.Close();
            }
        }

        Interlocked.Exchange(ref _bytesDown, 0);
        Interlocked.Exchange(ref _bytesUp, 0);
        _trace.Clear();
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Dispose();
        Reset();
        try
        {
            await _accepting.ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopping.
        }

        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            client.NoDelay = true;
            var id = Interlocked.Increment(ref _nextConnection);
            var connection = new Connection(this, id, client);
            _connections[id] = connection;
            _ = connection.RunAsync();
        }
    }

    /// <summary>Bytes per socket read: about 1 ms of the rate (4-64 KiB), so the throttled stream stays smooth.</summary>
    private int ChunkSize(TokenBucket bucket) =>
        bucket.BytesPerSecond <= 0 ? 64 * 1024 : (int)Math.Clamp(bucket.BytesPerSecond / 1000, 4 * 1024, 64 * 1024);

    private void Record(RequestRecord request) => _trace.Enqueue(request);

    private void CountDown(int bytes) => Interlocked.Add(ref _bytesDown, bytes);

    private void CountUp(int bytes) => Interlocked.Add(ref _bytesUp, bytes);

    private void Forget(int id) => _connections.TryRemove(id, out _);

    private static long Now() => Stopwatch.GetTimestamp();
}
