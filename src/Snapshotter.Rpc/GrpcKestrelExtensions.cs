using System.Net.Sockets;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Snapshotter.Rpc;

/// <summary>Kestrel setup for serving gRPC on a unix socket.</summary>
public static class GrpcKestrelExtensions
{
    /// <summary>
    /// Listens on <paramref name="socketPath"/> with HTTP/2 only (prior-knowledge h2c, as containerd's proxy
    /// plugin speaks). Creates the parent directory, removes a stale socket left by a previous run (refusing
    /// when another server still accepts on it), and lifts the request-body limits that do not suit gRPC
    /// (message sizes are enforced by <see cref="GrpcServerOptions"/>).
    /// </summary>
    public static void ListenGrpcUnixSocket(this KestrelServerOptions options, string socketPath)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        string? directory = Path.GetDirectoryName(Path.GetFullPath(socketPath));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        RemoveStaleSocket(socketPath);
        options.Limits.MaxRequestBodySize = null;
        options.Limits.MinRequestBodyDataRate = null;
        options.ListenUnixSocket(socketPath, listen => listen.Protocols = HttpProtocols.Http2);
    }

    /// <summary>
    /// Removes a socket file nobody accepts on (left by a crashed run) and returns true; returns false when there is
    /// no file. Throws <see cref="InvalidOperationException"/> when a server still accepts on it.
    /// </summary>
    public static bool RemoveStaleSocket(string socketPath)
    {
        if (!File.Exists(socketPath))
        {
            return false;
        }

        using (var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            try
            {
                probe.Connect(new UnixDomainSocketEndPoint(socketPath));
                throw new InvalidOperationException($"Another server is already listening on unix socket '{socketPath}'.");
            }
            catch (SocketException)
            {
                // Nobody accepts: a leftover of a previous run.
            }
        }

        File.Delete(socketPath);
        return true;
    }
}
