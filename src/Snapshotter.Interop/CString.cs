using System.Text;

namespace Snapshotter.Interop;

/// <summary>NUL-terminated UTF-8 copies of strings, the form Tmds.LibC's <c>byte*</c> path parameters take.</summary>
internal static class CString
{
    /// <summary>Encodes <paramref name="value"/> as UTF-8 followed by one NUL byte; pin the result with <c>fixed</c>.</summary>
    public static byte[] From(string value)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(value) + 1];
        Encoding.UTF8.GetBytes(value, bytes);
        return bytes;
    }
}
