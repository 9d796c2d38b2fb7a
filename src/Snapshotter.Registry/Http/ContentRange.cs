using System.Globalization;

namespace Snapshotter.Registry.Http;

/// <summary>A parsed <c>Content-Range: bytes first-last/length</c> (length -1 when <c>*</c>).</summary>
internal readonly record struct ContentRange(long First, long Last, long Length)
{
    /// <summary>Parses the header value; false for anything but a well-formed single byte range.</summary>
    public static bool TryParse(ReadOnlySpan<char> value, out ContentRange range)
    {
        range = default;
        value = value.Trim();
        if (!value.StartsWith("bytes ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        value = value[6..].TrimStart();
        int dash = value.IndexOf('-');
        int slash = value.IndexOf('/');
        if (dash <= 0 || slash <= dash + 1)
        {
            return false;
        }

        if (!long.TryParse(value[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out long first)
            || !long.TryParse(value[(dash + 1)..slash], NumberStyles.None, CultureInfo.InvariantCulture, out long last)
            || last < first)
        {
            return false;
        }

        ReadOnlySpan<char> total = value[(slash + 1)..];
        long length = -1;
        if (total is not "*" && (!long.TryParse(total, NumberStyles.None, CultureInfo.InvariantCulture, out length) || length <= last))
        {
            return false;
        }

        range = new ContentRange(first, last, length);
        return true;
    }
}
