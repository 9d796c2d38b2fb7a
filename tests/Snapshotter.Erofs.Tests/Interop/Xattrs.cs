using System.Runtime.InteropServices;
using System.Text;

namespace Snapshotter.Erofs.Tests.Interop;

/// <summary>
/// Extended attributes without following symlinks, for comparing what the kernel serves with what we wrote. These are
/// our own imports because Tmds.LibC has no xattr calls. Snapshotter.KernelTests compiles this file too.
/// </summary>
internal static partial class Xattrs
{
    /// <summary>The value of <paramref name="name"/> on <paramref name="path"/> as UTF-8 text, or null when it cannot be read.</summary>
    public static string? Get(string path, string name)
    {
        var buffer = new byte[4096];
        var n = lgetxattr(path, name, buffer, (nuint)buffer.Length);
        return n < 0 ? null : Encoding.UTF8.GetString(buffer, 0, (int)n);
    }

    // Missing from Tmds.LibC.
    [LibraryImport("libc", EntryPoint = "llistxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint llistxattr(string path, Span<byte> list, nuint size);

    // Missing from Tmds.LibC.
    [LibraryImport("libc", EntryPoint = "lgetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint lgetxattr(string path, string name, Span<byte> value, nuint size);

    // Missing from Tmds.LibC.
    [LibraryImport("libc", EntryPoint = "lsetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int lsetxattr(string path, string name, ReadOnlySpan<byte> value, nuint size, int flags);
}
