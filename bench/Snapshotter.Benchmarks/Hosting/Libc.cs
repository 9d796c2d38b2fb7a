using System.Runtime.InteropServices;

namespace Snapshotter.Benchmarks.Hosting;

/// <summary>libc calls the host needs: SIGTERM and lazy unmount.</summary>
internal static partial class Libc
{
    internal const int SIGTERM = 15;
    internal const int MNT_DETACH = 2;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    internal static partial int kill(int pid, int sig);

    [LibraryImport("libc", EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int umount2(string target, int flags);
}
