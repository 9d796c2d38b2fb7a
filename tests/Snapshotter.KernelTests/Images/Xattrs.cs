using System.Runtime.InteropServices;
using System.Text;

namespace Snapshotter.KernelTests.Images;

/// <summary>Reads one extended attribute without following symlinks (for checking what EROFS serves).</summary>
internal static partial class Xattrs
{
    public static string? Get(string path, string name)
    {
        var buffer = new byte[4096];
        var n = lgetxattr(path, name, buffer, (nuint)buffer.Length);
        return n < 0 ? null : Encoding.UTF8.GetString(buffer, 0, (int)n);
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial nint lgetxattr(string path, string name, byte[] value, nuint size);
}
