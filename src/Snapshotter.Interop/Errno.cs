using System.Runtime.InteropServices;

namespace Snapshotter.Interop;

/// <summary>errno values rendered as the C library names them.</summary>
internal static class Errno
{
    /// <summary>"No such file or directory (errno 2)" for 2 or -2 (results on the READ path are -errno).</summary>
    public static string Describe(int errno)
    {
        errno = Math.Abs(errno);

        // The runtime's strerror_r wrapper: Tmds.LibC has only the raw strerror_r, which needs a caller buffer.
        return $"{Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";
    }
}
