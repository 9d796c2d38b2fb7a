using Snapshotter.Configuration;
using Snapshotter.Rpc;

namespace Snapshotter.Hosting;

/// <summary>Prepares the listening socket's path: a private parent directory and no stale socket file.</summary>
internal static class SocketPreparer
{
    /// <summary>Mode of directories we create (root dir, socket dir): only the owner may enter.</summary>
    public const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Socket mode 0660: owner and group may connect.</summary>
    public const UnixFileMode SocketMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;

    /// <summary>
    /// Creates the parent directory (0700) when missing and removes a socket file nobody listens on (returns true then).
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

        try
        {
            return GrpcKestrelExtensions.RemoveStaleSocket(address);
        }
        catch (InvalidOperationException)
        {
            throw new ConfigException($"another process is already serving {address}");
        }
    }
}
