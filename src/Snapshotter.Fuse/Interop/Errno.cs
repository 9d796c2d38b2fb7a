using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Snapshotter.Fuse.Interop;

/// <summary>errno values the server answers with or reacts to, and their C library text.</summary>
internal static partial class Errno
{
    // Tmds.LibC exposes errno values as properties; these are cached once so hot paths read a field.
    public static readonly int EINTR = LibC.EINTR;
    public static readonly int EAGAIN = LibC.EAGAIN;
    public static readonly int ENOENT = LibC.ENOENT;
    public static readonly int EIO = LibC.EIO;
    public static readonly int ENOSYS = LibC.ENOSYS;
    public static readonly int ENODEV = LibC.ENODEV;
    public static readonly int ENOTCONN = LibC.ENOTCONN;
    public static readonly int ECONNABORTED = LibC.ECONNABORTED;
    public static readonly int EROFS = LibC.EROFS;
    public static readonly int EISDIR = LibC.EISDIR;
    public static readonly int ENOTDIR = LibC.ENOTDIR;
    public static readonly int EBADF = LibC.EBADF;
    public static readonly int EBUSY = LibC.EBUSY;
    public static readonly int EINVAL = LibC.EINVAL;
    public static readonly int EPROTO = LibC.EPROTO;

    public static string Describe(int errno)
    {
        errno = Math.Abs(errno);
        var text = Marshal.PtrToStringUTF8(strerror(errno)) ?? "unknown error";
        return $"{text} (errno {errno})";
    }

    // Tmds.LibC binds only strerror_r, whose glibc symbol is the GNU variant (returns a char*, not an int).
    [LibraryImport("libc", EntryPoint = "strerror")]
    private static partial nint strerror(int errnum);
}
