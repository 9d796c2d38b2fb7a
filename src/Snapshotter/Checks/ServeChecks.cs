using System.Net.Sockets;
using Snapshotter.Interop;
using Snapshotter.Lazy.Mounting;

namespace Snapshotter.Checks;

/// <summary>What <c>serve</c> needs to start at all: its root directory, its socket's directory, overlayfs on the root.</summary>
internal static class ServeChecks
{
    private static readonly string[] OverlayDirectories = ["lower", "upper", "work", "merged"];

    /// <summary>The root exists (or can be created), is writable and no other snapshotter holds its lock.</summary>
    public static CheckResult RootDirectory(string root)
    {
        const string Name = "root_dir";
        if (File.Exists(root))
        {
            return CheckResult.Fail(Name, $"{root} is a file, not a directory", "point root (--root) at a directory");
        }

        var existing = Directory.Exists(root);
        if (Writable(root) is { } error)
        {
            return CheckResult.Fail(
                Name,
                existing ? $"{root} is not writable: {error}" : $"{root} does not exist and cannot be created in {ScratchDirectory.NearestExisting(root)}: {error}",
                "use a writable local directory for root (--root), e.g. under /var/lib");
        }

        if (!existing)
        {
            return CheckResult.Ok(Name, $"{root} does not exist yet; serve creates it (mode 0700) in {ScratchDirectory.NearestExisting(root)}");
        }

        var lockFile = Path.Combine(root, "snapshotter.lock");
        if (File.Exists(lockFile))
        {
            try
            {
                // serve holds this lock (flock) for its lifetime.
                using var probe = new FileStream(lockFile, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                return CheckResult.Fail(
                    Name,
                    $"{root} is in use by a running snapshotter ({lockFile} is locked)",
                    "stop the running snapshotter, or give this one another root (--root)");
            }
        }

        return CheckResult.Ok(Name, $"{root} is a writable directory");
    }

    /// <summary>The socket's directory exists or can be created, and nobody serves on the address yet.</summary>
    public static CheckResult Socket(string address)
    {
        const string Name = "socket";
        if (Directory.Exists(address))
        {
            return CheckResult.Fail(Name, $"address {address} is a directory, not a socket", "point address (--address) at a socket path");
        }

        var directory = Path.GetDirectoryName(address) ?? "/";
        if (Writable(directory) is { } error)
        {
            return CheckResult.Fail(Name, $"the socket directory {directory} cannot be created or written: {error}", "use an address (--address) in a writable directory, e.g. under /run");
        }

        if (!File.Exists(address))
        {
            return CheckResult.Ok(Name, Directory.Exists(directory)
                ? $"{address} can be created in {directory}"
                : $"{address} can be created; serve creates {directory} (mode 0700)");
        }

        using var socket = new System.Net.Sockets.Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(address));
        }
        catch (SocketException)
        {
            return CheckResult.Ok(Name, $"{address} is a stale socket of an earlier run; serve replaces it");
        }

        return CheckResult.Fail(Name, $"another process is already serving {address}", "stop it, or give this snapshotter another address (--address)");
    }

    /// <summary>A real overlay mount (lower, upper, work) on the root's filesystem, written through and unmounted.</summary>
    public static CheckResult Overlayfs(string root)
    {
        const string Name = "overlayfs";
        const string Hint = "the kernel needs CONFIG_OVERLAY_FS, and root (--root) must be on a filesystem overlayfs accepts as upper layer (ext4, xfs with ftype=1, btrfs; not overlay or NFS)";
        ScratchDirectory scratch;
        try
        {
            scratch = ScratchDirectory.Create(root);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return CheckResult.Fail(Name, $"no test mount possible: {e.Message}", "make root (--root) writable");
        }

        using (scratch)
        {
            var dirs = OverlayDirectories.Select(d => Directory.CreateDirectory(Path.Combine(scratch.Path, d)).FullName).ToArray();
            File.WriteAllText(Path.Combine(dirs[0], "lower.txt"), "lower\n");
            try
            {
                MountCalls.Mount("overlay", dirs[3], "overlay", 0, $"lowerdir={dirs[0]},upperdir={dirs[1]},workdir={dirs[2]}");
            }
            catch (SyscallException e)
            {
                var listed = HostChecks.KernelLists("overlay") ? "listed in /proc/filesystems" : "not in /proc/filesystems";
                return CheckResult.Fail(Name, $"overlayfs ({listed}): test mount in {scratch.Probed} failed: {e.Message}", Hint);
            }

            try
            {
                File.WriteAllText(Path.Combine(dirs[3], "upper.txt"), "upper\n");
                var seen = File.Exists(Path.Combine(dirs[3], "lower.txt")) && File.Exists(Path.Combine(dirs[1], "upper.txt"));
                return seen
                    ? CheckResult.Ok(Name, $"a test overlay mount in {scratch.Probed} shows its lower layer and writes to its upper layer")
                    : CheckResult.Fail(Name, $"a test overlay mount in {scratch.Probed} did not show its layers", Hint);
            }
            catch (IOException e)
            {
                return CheckResult.Fail(Name, $"writing through a test overlay mount in {scratch.Probed} failed: {e.Message}", Hint);
            }
            finally
            {
                MountTable.Unmount(dirs[3]);
            }
        }
    }

    /// <summary>Null when a directory can be made inside <paramref name="directory"/> (or its nearest existing parent), else why not.</summary>
    private static string? Writable(string directory)
    {
        try
        {
            ScratchDirectory.Create(directory).Dispose();
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return e.Message;
        }
    }
}
