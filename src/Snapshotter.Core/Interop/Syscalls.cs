using Snapshotter.Interop;
using Tmds.Linux;

namespace Snapshotter.Core.Interop;

/// <summary>
/// The few system calls the overlay backend makes, over Tmds.LibC: EINTR retried, failures thrown as
/// <see cref="SnapshotterException"/> naming the syscall and the path.
/// </summary>
internal static unsafe class Syscalls
{
    /// <summary>mkdir(2) with an explicit mode (subject to the umask); an existing directory is fine when <paramref name="existOk"/>.</summary>
    public static void Mkdir(string path, uint mode, bool existOk = false)
    {
        fixed (byte* p = CString.From(path))
        {
            while (LibC.mkdir(p, (ushort)mode) != 0)
            {
                var errno = LibC.errno;
                if (errno == LibC.EEXIST && existOk && Directory.Exists(path))
                {
                    return;
                }

                ThrowUnlessInterrupted("mkdir", path, errno);
            }
        }
    }

    /// <summary>chmod(2); follows symlinks, so call it on directories only.</summary>
    public static void Chmod(string path, uint mode)
    {
        fixed (byte* p = CString.From(path))
        {
            while (LibC.chmod(p, (ushort)mode) != 0)
            {
                ThrowUnlessInterrupted("chmod", path, LibC.errno);
            }
        }
    }

    /// <summary>statx(2) without following a trailing symlink; throws naming the syscall on failure.</summary>
    public static statx LStatx(string path) =>
        TryLStatx(path, out var buf) ? buf : throw ErrnoException("statx", path, LibC.ENOENT);

    /// <summary>Like <see cref="LStatx"/> but returns false when the path does not exist (ENOENT) instead of throwing.</summary>
    public static bool TryLStatx(string path, out statx buf)
    {
        buf = default;
        fixed (byte* p = CString.From(path))
        fixed (statx* b = &buf)
        {
            while (LibC.statx(LibC.AT_FDCWD, p, LibC.AT_SYMLINK_NOFOLLOW, LibC.STATX_BASIC_STATS, b) != 0)
            {
                var errno = LibC.errno;
                if (errno == LibC.ENOENT)
                {
                    return false;
                }

                ThrowUnlessInterrupted("statx", path, errno);
            }
        }

        return true;
    }

    /// <summary>lchown(2): gives a new upper directory its parent's owner, as containerd does.</summary>
    public static void LChown(string path, uint owner, uint group)
    {
        fixed (byte* p = CString.From(path))
        {
            while (LibC.lchown(p, owner, group) != 0)
            {
                ThrowUnlessInterrupted("lchown", path, LibC.errno);
            }
        }
    }

    private static void ThrowUnlessInterrupted(string syscall, string path, int errno)
    {
        if (errno != LibC.EINTR)
        {
            throw ErrnoException(syscall, path, errno);
        }
    }

    private static SnapshotterException ErrnoException(string syscall, string path, int errno) =>
        new(ErrorKind.Unknown, $"{syscall} {path}: {Errno.Describe(errno)}");
}
