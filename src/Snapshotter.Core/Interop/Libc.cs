using System.Runtime.InteropServices;

namespace Snapshotter.Core.Interop;

/// <summary>The few libc calls the overlay backend needs; names as the kernel spells them.</summary>
internal static partial class Libc
{
    public const int AT_FDCWD = -100;
    public const int AT_SYMLINK_NOFOLLOW = 0x100;
    public const uint STATX_BASIC_STATS = 0x7ff;
    public const int S_IFMT = 0xF000;
    public const int S_IFDIR = 0x4000;
    public const int ENOENT = 2;
    public const int EINTR = 4;

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int statx_native(int dirfd, string pathname, int flags, uint mask, out Statx statxbuf);

    [LibraryImport("libc", EntryPoint = "lchown", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int lchown_native(string pathname, uint owner, uint group);

    [LibraryImport("libc", EntryPoint = "mkdir", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int mkdir_native(string pathname, uint mode);

    [LibraryImport("libc", EntryPoint = "chmod", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int chmod_native(string pathname, uint mode);

    public const int EEXIST = 17;

    /// <summary>mkdir(2) with an explicit mode (subject to the umask); an existing directory is fine when <paramref name="existOk"/>.</summary>
    public static void Mkdir(string path, uint mode, bool existOk = false)
    {
        while (mkdir_native(path, mode) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno == EEXIST && existOk && Directory.Exists(path))
            {
                return;
            }

            if (errno != EINTR)
            {
                throw ErrnoException("mkdir", path, errno);
            }
        }
    }

    /// <summary>chmod(2); follows symlinks, so call it on directories only.</summary>
    public static void Chmod(string path, uint mode)
    {
        while (chmod_native(path, mode) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno != EINTR)
            {
                throw ErrnoException("chmod", path, errno);
            }
        }
    }

    /// <summary>statx(2) without following a trailing symlink; throws naming the syscall on failure.</summary>
    public static Statx LStatx(string path) =>
        TryLStatx(path, out var buf) ? buf : throw ErrnoException("statx", path, ENOENT);

    /// <summary>Like <see cref="LStatx"/> but returns false when the path does not exist (ENOENT) instead of throwing.</summary>
    public static bool TryLStatx(string path, out Statx buf)
    {
        while (true)
        {
            if (statx_native(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, out buf) == 0)
            {
                return true;
            }

            var errno = Marshal.GetLastPInvokeError();
            if (errno == ENOENT)
            {
                return false;
            }

            if (errno != EINTR)
            {
                throw ErrnoException("statx", path, errno);
            }
        }
    }

    /// <summary>lchown(2): gives a new upper directory its parent's owner, as containerd does.</summary>
    public static void LChown(string path, uint owner, uint group)
    {
        while (lchown_native(path, owner, group) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno != EINTR)
            {
                throw ErrnoException("lchown", path, errno);
            }
        }
    }

    private static SnapshotterException ErrnoException(string syscall, string path, int errno) =>
        new(ErrorKind.Unknown, $"{syscall} {path}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
}
