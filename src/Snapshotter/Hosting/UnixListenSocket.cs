using System.Net.Sockets;

namespace Snapshotter.Hosting;

/// <summary>
/// Creates a listening unix socket whose path accepts connections from the moment it exists, already with its final
/// mode. containerd's proxy client does not retry its first call, so a path that exists but refuses connections
/// (Kestrel binds, then listens) or still has the umask mode (chmod after start) fails a containerd that starts
/// at the same time.
/// </summary>
internal static class UnixListenSocket
{
    /// <summary>
    /// Binds a socket on a temporary name in <paramref name="path"/>'s directory, sets <paramref name="mode"/>, listens,
    /// then renames it onto <paramref name="path"/> (rename(2) is atomic and replaces a stale socket file).
    /// The caller owns the returned socket.
    /// </summary>
    public static Socket Create(string path, UnixFileMode mode, int backlog)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path)) ?? "/";

        // Short on purpose: sun_path holds 107 bytes, and this name must fit wherever the final one does.
        var temporary = Path.Combine(directory, $".{Environment.ProcessId}.tmp");
        File.Delete(temporary);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint(temporary));
            File.SetUnixFileMode(temporary, mode);
            socket.Listen(backlog);

            // File.Move with overwrite is rename(2) on Linux.
            File.Move(temporary, path, overwrite: true);
            return socket;
        }
        catch
        {
            // Dispose unlinks the name the socket was bound to, here the temporary one.
            socket.Dispose();
            throw;
        }
    }
}
