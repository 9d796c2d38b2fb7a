using System.Text;

namespace Snapshotter.Lazy.Interop;

/// <summary>NUL-terminated UTF-8 copies of managed strings for the libc calls in this folder.</summary>
internal static class NativeString
{
    public static byte[] Of(string value) => Encoding.UTF8.GetBytes(value + '\0');
}
