using System.Buffers.Text;

namespace Snapshotter.Cachefiles.Protocol;

/// <summary>Replies written to the device or the object fd.</summary>
internal static class CachefilesReplies
{
    /// <summary><c>CACHEFILES_IOC_READ_COMPLETE = _IOW(0x98, 1, int)</c>, issued on the object's anonymous fd.</summary>
    public const int ReadCompleteIoctl = 0x40049801;

    /// <summary>
    /// Formats <c>copen &lt;msg_id&gt;,&lt;size&gt;</c> into <paramref name="destination"/>; a negative size is an
    /// error for the opener (e.g. -ENOENT for an unknown cookie). Returns the byte count.
    /// </summary>
    public static int FormatCopen(Span<byte> destination, uint messageId, long size)
    {
        "copen "u8.CopyTo(destination);
        var written = 6;
        Utf8Formatter.TryFormat(messageId, destination[written..], out var n);
        written += n;
        destination[written++] = (byte)',';
        Utf8Formatter.TryFormat(size, destination[written..], out n);
        return written + n;
    }
}
