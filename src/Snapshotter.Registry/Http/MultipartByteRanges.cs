using System.Buffers;
using System.Text;

namespace Snapshotter.Registry.Http;

/// <summary>
/// Reads a <c>multipart/byteranges</c> answer (RFC 9110 14.6) to a single-range request: finds the part whose
/// <c>Content-Range</c> covers the requested bytes and copies them. The answer is bounded to the range plus headers.
/// </summary>
internal static class MultipartByteRanges
{
    private const int HeaderAllowance = 16 * 1024;

    public static async ValueTask ReadSinglePartAsync(HttpContent content, long offset, Memory<byte> destination, string where, CancellationToken cancellationToken)
    {
        string? boundary = content.Headers.ContentType?.Parameters.FirstOrDefault(p => p.Name.Equals("boundary", StringComparison.OrdinalIgnoreCase))?.Value?.Trim('"');
        if (string.IsNullOrEmpty(boundary))
        {
            throw Invalid(where, "multipart answer without a boundary");
        }

        int limit = destination.Length + HeaderAllowance;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(limit);
        try
        {
            int total = await ReadBoundedAsync(content, buffer, limit, where, cancellationToken).ConfigureAwait(false);
            CopyCoveringPart(buffer.AsSpan(0, total), Encoding.ASCII.GetBytes("--" + boundary), offset, destination.Span, where);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Reads the whole answer into <paramref name="buffer"/>; one far larger than <paramref name="limit"/> is refused.</summary>
    private static async ValueTask<int> ReadBoundedAsync(HttpContent content, byte[] buffer, int limit, string where, CancellationToken cancellationToken)
    {
        Stream body = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        int total = 0;
        int n;
        while ((n = await body.ReadAsync(buffer.AsMemory(total, limit - total), cancellationToken).ConfigureAwait(false)) > 0)
        {
            total += n;
            if (total == limit)
            {
                if (await body.ReadAsync(new byte[1], cancellationToken).ConfigureAwait(false) > 0)
                {
                    throw Invalid(where, "multipart answer is far larger than the range");
                }

                break;
            }
        }

        return total;
    }

    /// <summary>Walks the parts of <paramref name="data"/> and copies the requested bytes out of the first part that covers them.</summary>
    private static void CopyCoveringPart(ReadOnlySpan<byte> data, byte[] delimiter, long offset, Span<byte> destination, string where)
    {
        int pos = data.IndexOf(delimiter);
        while (pos >= 0)
        {
            pos += delimiter.Length;
            if (data[pos..].StartsWith("--"u8))
            {
                break;
            }

            int headersEnd = data[pos..].IndexOf("\r\n\r\n"u8);
            if (headersEnd < 0)
            {
                break;
            }

            ContentRange r = PartRange(Encoding.ASCII.GetString(data.Slice(pos, headersEnd)))
                ?? throw Invalid(where, "multipart part without a valid Content-Range");
            int bodyStart = pos + headersEnd + 4;
            long partLength = r.Last - r.First + 1;
            if (bodyStart + partLength > data.Length)
            {
                throw new RegistryException(RegistryErrorKind.Unavailable, $"{where}: the multipart answer ended early");
            }

            if (r.First <= offset && r.Last >= offset + destination.Length - 1)
            {
                data.Slice(bodyStart + (int)(offset - r.First), destination.Length).CopyTo(destination);
                return;
            }

            int next = data[(bodyStart + (int)partLength)..].IndexOf(delimiter);
            pos = next < 0 ? -1 : bodyStart + (int)partLength + next;
        }

        throw Invalid(where, "no multipart part covers the requested range");
    }

    /// <summary>The last valid <c>Content-Range</c> among a part's header lines.</summary>
    private static ContentRange? PartRange(string headers)
    {
        ContentRange? range = null;
        foreach (string line in headers.Split("\r\n", StringSplitOptions.RemoveEmptyEntries))
        {
            int colon = line.IndexOf(':');
            if (colon > 0 && line.AsSpan(0, colon).Trim().Equals("Content-Range", StringComparison.OrdinalIgnoreCase)
                && ContentRange.TryParse(line.AsSpan(colon + 1), out ContentRange parsed))
            {
                range = parsed;
            }
        }

        return range;
    }

    private static RegistryException Invalid(string where, string problem) => new(RegistryErrorKind.InvalidResponse, $"{where}: {problem}");
}
