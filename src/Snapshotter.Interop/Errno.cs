using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Snapshotter.Interop;

/// <summary>errno values the hot paths compare with, and their text as the C library names them.</summary>
internal static class Errno
{
    // Tmds.LibC exposes errno values as properties; these are read once so hot paths compare with a field.
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

    /// <summary>"No such file or directory (errno 2)" for 2 or -2 (results on the READ path are -errno).</summary>
    public static string Describe(int errno)
    {
        errno = Math.Abs(errno);

        // The runtime's strerror_r wrapper: Tmds.LibC has only the raw strerror_r, which needs a caller buffer.
        return $"{Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";
    }
}
