using System.Runtime.InteropServices;

namespace Snapshotter.Erofs.Tests.Interop;

/// <summary>mount(2)/umount2(2): util-linux mount would put a loop device under a regular file, and then device= must be a block device too.</summary>
internal static partial class Libc
{
    public const ulong MS_RDONLY = 1;

    [LibraryImport("libc", EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int mount(string source, string target, string fstype, ulong flags, string data);

    [LibraryImport("libc", EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int umount2(string target, int flags);

    [LibraryImport("libc", EntryPoint = "lstat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int lstat(string path, Span<byte> buf);

    [LibraryImport("libc", EntryPoint = "llistxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint llistxattr(string path, Span<byte> list, nuint size);

    [LibraryImport("libc", EntryPoint = "lgetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint lgetxattr(string path, string name, Span<byte> value, nuint size);

    [LibraryImport("libc", EntryPoint = "lsetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int lsetxattr(string path, string name, ReadOnlySpan<byte> value, nuint size, int flags);

    public static void MountErofs(string image, string target, IEnumerable<string> devices)
    {
        string data = string.Join(',', devices.Select(d => "device=" + d));
        if (mount(image, target, "erofs", MS_RDONLY, data) != 0)
        {
            throw new InvalidOperationException($"mount(2) erofs {image} on {target} ({data}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    public static void Unmount(string target)
    {
        if (umount2(target, 2) != 0)
        {
            throw new InvalidOperationException($"umount2({target}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }
}
