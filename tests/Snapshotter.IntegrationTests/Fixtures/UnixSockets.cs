using System.Diagnostics;
using System.Net.Sockets;

namespace Snapshotter.IntegrationTests.Fixtures;

/// <summary>Readiness checks for daemons that listen on unix sockets.</summary>
internal static class UnixSockets
{
    /// <summary>
    /// Waits until something accepts connections on <paramref name="path"/>. A file alone is not
    /// enough: a daemon killed with SIGKILL leaves a stale socket behind.
    /// </summary>
    public static async Task WaitConnectableAsync(string path, DaemonProcess owner, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            if (owner.HasExited)
            {
                throw new InvalidOperationException($"{owner.Name} exited with code {owner.ExitCode} before listening on {path}; its output:\n{owner.Logs()}");
            }

            if (await CanConnectAsync(path, cancellationToken).ConfigureAwait(false))
            {
                return;
            }

            if (sw.Elapsed > timeout)
            {
                throw new TimeoutException($"{owner.Name} did not accept connections on {path} within {timeout}; its output:\n{owner.Logs()}");
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    public static async Task<bool> CanConnectAsync(string path, CancellationToken cancellationToken = default)
    {
        if (!File.Exists(path))
        {
            return false;
        }

        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
