using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Snapshotter.Configuration;

namespace Snapshotter.Hosting;

/// <summary>Prepares the listening socket's path: a private parent directory and no stale socket file.</summary>
internal static class SocketPreparer
{
    /// <summary>Parent directory mode: only root may reach the socket through it.</summary>
    public const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Socket mode 0660: owner and group may connect.</summary>
    public const UnixFileMode SocketMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;

    /// <summary>
    /// Creates the parent directory (0700) and removes a socket file nobody listens on.
    /// Throws <see cref="ConfigException"/> when another process is serving the address or the path is not a socket.
    /// </summary>
    public static void Prepare(string address, ILogger logger)
    {
        var dir = Path.GetDirectoryName(address) ?? "/";
        if (!Directory.Exists(dir))
        {
            Directory.CreateDirectory(dir, DirectoryMode);
        }

        var info = new FileInfo(address);
        if (!info.Exists && info.LinkTarget is null)
        {
            return;
        }

        if ((info.Attributes & FileAttributes.Directory) != 0)
        {
            throw new ConfigException($"address {address} is a directory, not a socket");
        }

        using (var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            try
            {
                probe.Connect(new UnixDomainSocketEndPoint(address));
                throw new ConfigException($"another process is already serving {address}");
            }
            catch (SocketException)
            {
                // Nobody listens: a leftover of a crashed run (kill -9 leaves the file behind).
            }
        }

        Log.RemovingStaleSocket(logger, address);
        File.Delete(address);
    }
}
