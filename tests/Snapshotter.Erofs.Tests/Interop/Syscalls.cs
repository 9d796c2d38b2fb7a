using System.Runtime.InteropServices;
using System.Text;
using Tmds.Linux;

namespace Snapshotter.Erofs.Tests.Interop;

/// <summary>
/// mount(2), umount2(2) and statx(2) from Tmds.LibC. mount(2) directly because util-linux mount would put a loop device
/// under a regular file, and then device= must be a block device too.
/// </summary>
internal static unsafe class Syscalls
{
    public static void MountErofs(string image, string target, IEnumerable<string> devices)
    {
        string data = string.Join(',', devices.Select(d => "device=" + d));
        fixed (byte* s = CString(image))
        fixed (byte* t = CString(target))
        fixed (byte* type = CString("erofs"))
        fixed (byte* d = CString(data))
        {
            if (LibC.mount(s, t, type, LibC.MS_RDONLY, d) != 0)
            {
                throw Failed($"mount(2) erofs {image} on {target} ({data})");
            }
        }
    }

    public static void Unmount(string target)
    {
        fixed (byte* t = CString(target))
        {
            if (LibC.umount2(t, LibC.MNT_DETACH) != 0)
            {
                throw Failed($"umount2({target})");
            }
        }
    }

    /// <summary>statx(2) of <paramref name="path"/> itself (a symlink is not followed).</summary>
    public static statx LStatx(string path)
    {
        statx buf;
        fixed (byte* p = CString(path))
        {
            if (LibC.statx(LibC.AT_FDCWD, p, LibC.AT_SYMLINK_NOFOLLOW, LibC.STATX_BASIC_STATS, &buf) != 0)
            {
                throw Failed($"statx({path})");
            }
        }

        return buf;
    }

    private static byte[] CString(string value) => Encoding.UTF8.GetBytes(value + "\0");

    private static InvalidOperationException Failed(string call)
    {
        var errno = LibC.errno;
        return new InvalidOperationException($"{call} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
    }
}
