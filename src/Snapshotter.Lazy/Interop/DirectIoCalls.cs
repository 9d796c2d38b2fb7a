using Microsoft.Win32.SafeHandles;
using Tmds.Linux;

namespace Snapshotter.Lazy.Interop;

/// <summary>O_DIRECT on an open file (.NET's FileOptions has no such flag on Linux: its NoBuffering is Windows-only).</summary>
internal static class DirectIoCalls
{
    /// <summary>Sets O_DIRECT on <paramref name="handle"/>; false where the file system refuses it (tmpfs: EINVAL).</summary>
    public static bool TrySetDirect(SafeFileHandle handle)
    {
        var fd = (int)handle.DangerousGetHandle();
        var flags = LibC.fcntl(fd, LibC.F_GETFL);
        return flags >= 0 && LibC.fcntl(fd, LibC.F_SETFL, flags | LibC.O_DIRECT) == 0;
    }
}
