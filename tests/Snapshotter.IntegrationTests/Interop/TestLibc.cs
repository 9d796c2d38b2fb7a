using Tmds.Linux;
using Snapshotter.Interop;

namespace Snapshotter.IntegrationTests.Interop;

/// <summary>Signals, lazy unmounts and the root check the fixtures need, over Tmds.LibC and the project's own wrappers.</summary>
internal static class TestLibc
{
    /// <summary>True when the tests run as root (effective uid 0).</summary>
    internal static bool IsRoot => LibC.geteuid() == 0;

    /// <summary>Sends <paramref name="signal"/> to <paramref name="pid"/>; a process that is already gone is not an error.</summary>
    internal static void Signal(int pid, int signal)
    {
        if (LibC.kill(pid, signal) != 0)
        {
            int errno = LibC.errno;
            if (errno != LibC.ESRCH)
            {
                throw new InvalidOperationException($"kill({pid}, {signal}) failed with errno {errno}");
            }
        }
    }

    /// <summary>umount2(MNT_DETACH); returns 0 or the errno, which is EINVAL/ENOENT when the path is no longer a mount.</summary>
    internal static int DetachMount(string target) => -MountCalls.Unmount(target, detach: true);
}
