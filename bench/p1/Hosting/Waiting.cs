using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Snapshotter.P1.Benchmarks.Hosting;

/// <summary>Waits until a daemon the harness started accepts connections (failing with its log when it exits first).</summary>
internal static class Waiting
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(180);

    public static Task ForTcpAsync(IPEndPoint endPoint, ChildProcess owner, CancellationToken cancellationToken) =>
        ForAsync(() => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp), endPoint, owner, cancellationToken);

    public static Task ForUnixAsync(string path, ChildProcess owner, CancellationToken cancellationToken) =>
        ForAsync(() => new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified), new UnixDomainSocketEndPoint(path), owner, cancellationToken);

    private static async Task ForAsync(Func<Socket> create, EndPoint endPoint, ChildProcess owner, CancellationToken cancellationToken)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < Timeout)
        {
            if (owner.HasExited)
            {
                throw new InvalidOperationException($"a daemon exited before listening on {endPoint}:\n{owner.ReadLog()}");
            }

            using var socket = create();
            try
            {
                await socket.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            }
        }

        throw new TimeoutException($"nothing listens on {endPoint} after {Timeout.TotalSeconds} s:\n{owner.ReadLog()}");
    }
}
