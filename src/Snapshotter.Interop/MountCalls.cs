using Tmds.Linux;

namespace Snapshotter.Interop;

/// <summary>mount(2) and umount2(2) from Tmds.LibC, EINTR retried, failures named after the syscall.</summary>
internal static unsafe class MountCalls
{
    /// <summary>mount(2); throws <see cref="SyscallException"/> naming the call, the errno and the arguments.</summary>
    public static void Mount(string source, string target, string fsType, ulong flags, string? data)
    {
        fixed (byte* ps = CString.From(source), pt = CString.From(target), pf = CString.From(fsType), pd = data is null ? null : CString.From(data))
        {
            while (LibC.mount(ps, pt, pf, (ulong_t)flags, pd) != 0)
            {
                var errno = LibC.errno;
                if (errno != LibC.EINTR)
                {
                    throw new SyscallException("mount", errno, $"{fsType} {source} on {target} ({data})");
                }
            }
        }
    }

    /// <summary>umount2(2), lazily (MNT_DETACH) when <paramref name="detach"/>; returns 0 or -errno (callers decide whether busy or "not mounted" is an error).</summary>
    public static int Unmount(string target, bool detach)
    {
        fixed (byte* pt = CString.From(target))
        {
            while (true)
            {
                if (LibC.umount2(pt, detach ? LibC.MNT_DETACH : 0) == 0)
                {
                    return 0;
                }

                var errno = LibC.errno;
                if (errno != LibC.EINTR)
                {
                    return -errno;
                }
            }
        }
    }
}
