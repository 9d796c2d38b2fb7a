using System.Runtime.InteropServices;
using Snapshotter.Core.Snapshots;

namespace Snapshotter.Core.Tests.Interop;

/// <summary>mount(2), umount2(2) and link(2) for tests that exercise the real kernel.</summary>
internal static partial class TestLibc
{
    private const ulong MS_RDONLY = 1;
    private const ulong MS_REMOUNT = 32;
    private const ulong MS_BIND = 4096;
    private const ulong MS_REC = 16384;
    private const int MNT_DETACH = 2;

    [LibraryImport("libc", EntryPoint = "mount", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int mount(string source, string target, string? filesystemtype, ulong mountflags, string? data);

    [LibraryImport("libc", EntryPoint = "umount2", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int umount2(string target, int flags);

    [LibraryImport("libc", EntryPoint = "link", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int link(string oldpath, string newpath);

    public static void Link(string existing, string newPath) => Check(link(existing, newPath), "link", newPath);

    /// <summary>Mounts one containerd-style mount on <paramref name="target"/> (what containerd's mount.All does).</summary>
    public static void Mount(Mount m, string target)
    {
        ulong flags = 0;
        var data = new List<string>();
        foreach (var option in m.Options)
        {
            switch (option)
            {
                case "ro": flags |= MS_RDONLY; break;
                case "rw": break;
                case "bind": flags |= MS_BIND; break;
                case "rbind": flags |= MS_BIND | MS_REC; break;
                default: data.Add(option); break;
            }
        }

        var type = m.Type == "bind" ? null : m.Type;
        Check(mount(m.Source, target, type, flags & ~MS_RDONLY | (type is null ? 0 : flags & MS_RDONLY), data.Count == 0 ? null : string.Join(',', data)), "mount", target);

        // A bind mount ignores MS_RDONLY on the first call; make it read-only with a remount, as containerd does.
        if (type is null && (flags & MS_RDONLY) != 0)
        {
            Check(mount("none", target, null, MS_REMOUNT | MS_BIND | MS_RDONLY | (flags & MS_REC), null), "mount(remount)", target);
        }
    }

    public static void Unmount(string target) => Check(umount2(target, MNT_DETACH), "umount2", target);

    private static void Check(int rc, string call, string path)
    {
        if (rc != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IOException($"{call} {path}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
        }
    }
}
