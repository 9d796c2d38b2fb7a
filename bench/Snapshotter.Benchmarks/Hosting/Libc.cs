using Snapshotter.Interop;
using Tmds.Linux;

namespace Snapshotter.Benchmarks.Hosting;

/// <summary>
/// SIGTERM and lazy unmount for the host, under the names it calls them by: forwarded to Tmds.LibC and to the
/// project's umount2 wrapper rather than declared again.
/// </summary>
internal static class Libc
{
    internal static int SIGTERM => LibC.SIGTERM;

    internal static int MNT_DETACH => LibC.MNT_DETACH;

    internal static int kill(int pid, int sig) => LibC.kill(pid, sig);

    /// <summary>umount2(2); returns 0 or -errno.</summary>
    internal static int umount2(string target, int flags) => MountCalls.Unmount(target, detach: (flags & LibC.MNT_DETACH) != 0);
}
