using System.Runtime.InteropServices;
using Snapshotter.Interop;
using Snapshotter.Core.Snapshots;
using Tmds.Linux;

namespace Snapshotter.Core.Tests.Interop;

/// <summary>mount(2), umount2(2) and link(2) from Tmds.LibC, for tests that exercise the real kernel.</summary>
internal static unsafe class TestLibc
{
    public static void Link(string existing, string newPath)
    {
        fixed (byte* o = CString.From(existing))
        fixed (byte* n = CString.From(newPath))
        {
            Check(LibC.link(o, n), "link", newPath);
        }
    }

    /// <summary>Mounts one containerd-style mount on <paramref name="target"/> (what containerd's mount.All does).</summary>
    public static void Mount(Mount m, string target)
    {
        ulong flags = 0;
        var data = new List<string>();
        foreach (var option in m.Options)
        {
            switch (option)
            {
                case "ro": flags |= LibC.MS_RDONLY; break;
                case "rw": break;
                case "bind": flags |= LibC.MS_BIND; break;
                case "rbind": flags |= LibC.MS_BIND | LibC.MS_REC; break;
                default: data.Add(option); break;
            }
        }

        var type = m.Type == "bind" ? null : m.Type;
        ulong readOnly = flags & LibC.MS_RDONLY;
        Mount(m.Source, target, type, flags & ~readOnly | (type is null ? 0 : readOnly), data.Count == 0 ? null : string.Join(',', data), "mount");

        // A bind mount ignores MS_RDONLY on the first call; make it read-only with a remount, as containerd does.
        if (type is null && readOnly != 0)
        {
            Mount("none", target, null, LibC.MS_REMOUNT | LibC.MS_BIND | readOnly | (flags & LibC.MS_REC), null, "mount(remount)");
        }
    }

    public static void Unmount(string target)
    {
        fixed (byte* t = CString.From(target))
        {
            Check(LibC.umount2(t, LibC.MNT_DETACH), "umount2", target);
        }
    }

    private static void Mount(string source, string target, string? type, ulong flags, string? data, string call)
    {
        fixed (byte* s = CString.From(source))
        fixed (byte* t = CString.From(target))
        fixed (byte* f = type is null ? null : CString.From(type))
        fixed (byte* d = data is null ? null : CString.From(data))
        {
            Check(LibC.mount(s, t, f, (ulong_t)flags, d), call, target);
        }
    }

    private static void Check(int rc, string call, string path)
    {
        if (rc != 0)
        {
            var errno = LibC.errno;
            throw new IOException($"{call} {path}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
        }
    }
}
