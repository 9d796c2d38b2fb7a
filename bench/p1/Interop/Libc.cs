using Tmds.Linux;

namespace Snapshotter.P1.Benchmarks.Interop;

/// <summary>The few libc calls the harness makes (signals to its own children, lazy unmount of what a sample left), via Tmds.LibC.</summary>
internal static class Libc
{
    public static void Terminate(int pid) => _ = LibC.kill(pid, LibC.SIGTERM);

    public static void Kill(int pid) => _ = LibC.kill(pid, LibC.SIGKILL);

    /// <summary>umount2(MNT_DETACH); false when the kernel refused (the error is not interesting here: the next sample starts in a new directory).</summary>
    public static unsafe bool DetachMount(string target)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(target + "\0");
        fixed (byte* p = bytes)
        {
            return LibC.umount2(p, LibC.MNT_DETACH) == 0;
        }
    }

    /// <summary>sync(2) then drop the page cache, dentries and inodes, so every sample starts from the disk.</summary>
    public static void DropCaches()
    {
        LibC.sync();
        File.WriteAllText("/proc/sys/vm/drop_caches", "3");
    }
}
