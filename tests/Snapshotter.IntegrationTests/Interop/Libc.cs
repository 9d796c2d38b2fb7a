using System.Runtime.InteropServices;

namespace Snapshotter.IntegrationTests.Interop;

/// <summary>The few libc calls the fixtures need (signals and lazy unmount), kept as libc spells them.</summary>
internal static partial class Libc
{
    internal const int SIGTERM = 15;
    internal const int SIGKILL = 9;
    internal const int MNT_DETACH = 2;
    internal const int EINVAL = 22;
    internal const int ENOENT = 2;
    internal const int ESRCH = 3;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    internal static partial int kill(int pid, int sig);

    [LibraryImport("libc", EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int umount2(string target, int flags);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    internal static partial uint geteuid();

    /// <summary>Sends <paramref name="signal"/> to <paramref name="pid"/>; a process that is already gone is not an error.</summary>
    internal static void Signal(int pid, int signal)
    {
        if (kill(pid, signal) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno != ESRCH)
            {
                throw new InvalidOperationException($"kill({pid}, {signal}) failed with errno {errno}");
            }
        }
    }
}
