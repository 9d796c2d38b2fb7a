using System.Runtime.InteropServices;

namespace Snapshotter.Cachefiles.Interop;

/// <summary>errno values rendered as the C library names them.</summary>
internal static partial class Errno
{
    public static string Describe(int errno)
    {
        errno = Math.Abs(errno);
        var text = Marshal.PtrToStringUTF8(strerror(errno)) ?? "unknown error";
        return $"{text} (errno {errno})";
    }

    [LibraryImport("libc", EntryPoint = "strerror")]
    private static partial nint strerror(int errnum);
}
