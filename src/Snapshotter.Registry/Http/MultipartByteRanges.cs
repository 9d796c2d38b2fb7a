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

            ReadOnlySpan<byte> data = buffer.AsSpan(0, total);
            byte[] delimiter = Encoding.ASCII.GetBytes("--" + boundary);
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

                string headers = Encoding.ASCII.GetString(data.Slice(pos, headersEnd));
                int bodyStart = pos + headersEnd + 4;
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

                if (range is not { } r)
                {
                    throw Invalid(where, "multipart part without a valid Content-Range");
                }

                long partLength = r.Last - r.First + 1;
                if (bodyStart + partLength > data.Length)
                {
                    throw new RegistryException(RegistryErrorKind.Unavailable, $"{where}: the multipart answer ended early");
                }

                if (r.First <= offset && r.Last >= offset + destination.Length - 1)
                {
                    data.Slice(bodyStart + (int)(offset - r.First), destination.Length).CopyTo(destination.Span);
                    return;
                }

                int next = data[(bodyStart + (int)partLength)..].IndexOf(delimiter);
                pos = next < 0 ? -1 : bodyStart + (int)partLength + next;
            }

            throw Invalid(where, "no multipart part covers the requested range");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static RegistryException Invalid(string where, string problem) => new(RegistryErrorKind.InvalidResponse, $"{where}: {problem}");
}
