using Tmds.Linux;

namespace Snapshotter.Lazy.Interop;

/// <summary>mount(2) and umount2(2) from Tmds.LibC, EINTR retried, failures named after the syscall.</summary>
internal static unsafe class MountCalls
{
    public static readonly int EINVAL = LibC.EINVAL;
    public static readonly int ENOENT = LibC.ENOENT;
    public static readonly int EBUSY = LibC.EBUSY;

    /// <summary>mount(2); throws <see cref="NativeCallException"/> naming the call, the errno and the arguments.</summary>
    public static void Mount(string source, string target, string fsType, ulong flags, string? data)
    {
        var s = NativeString.Of(source);
        var t = NativeString.Of(target);
        var f = NativeString.Of(fsType);
        var d = data is null ? null : NativeString.Of(data);
        fixed (byte* ps = s, pt = t, pf = f, pd = d)
        {
            while (LibC.mount(ps, pt, pf, (ulong_t)flags, pd) != 0)
            {
                var errno = LibC.errno;
                if (errno != LibC.EINTR)
                {
                    throw new NativeCallException("mount", errno, $"{fsType} {source} on {target} ({data})");
                }
            }
        }
    }

    /// <summary>umount2(2); returns 0 or -errno (callers decide whether busy or "not mounted" is an error).</summary>
    public static int Unmount(string target, bool detach)
    {
        var t = NativeString.Of(target);
        fixed (byte* pt = t)
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
