using System.Net.Sockets;

namespace Snapshotter.Hosting;

/// <summary>Prepares the listening socket's path: a private parent directory, and no other server on it.</summary>
internal static class SocketPreparer
{
    /// <summary>Mode of directories we create (root dir, socket dir): only the owner may enter.</summary>
    public const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Socket mode 0660: owner and group may connect.</summary>
    public const UnixFileMode SocketMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;

    /// <summary>
    /// Creates the parent directory (0700) when missing and returns true when a socket file nobody accepts on (left by
    /// a crashed run) is at <paramref name="address"/>; <see cref="UnixListenSocket.Create"/> replaces it.
    /// Throws <see cref="ConfigException"/> when another process is serving the address or the path is a directory.
    /// </summary>
    public static bool Prepare(string address)
    {
        var dir = Path.GetDirectoryName(address) ?? "/";
        if (!Directory.Exists(dir))
        {
            Directory.CreateDirectory(dir, DirectoryMode);
        }

        if (Directory.Exists(address))
        {
            throw new ConfigException($"address {address} is a directory, not a socket");
        }

        if (!File.Exists(address))
        {
            return false;
        }

        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(address));
        }
        catch (SocketException)
        {
            // Nobody accepts: a leftover of a previous run.
            return true;
        }

        throw new ConfigException($"another process is already serving {address}");
    }
}
