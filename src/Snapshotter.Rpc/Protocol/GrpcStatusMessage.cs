using System.Buffers;
using System.Text;

namespace Snapshotter.Rpc.Protocol;

/// <summary>
/// Percent-encoding of <c>grpc-message</c>: the UTF-8 bytes outside 0x20..0x7E and '%' become %XX.
/// Decoding leaves malformed escapes as they are (the spec says a status message must never fail a call).
/// </summary>
internal static class GrpcStatusMessage
{
    public static string Encode(string message)
    {
        if (!NeedsEncoding(message))
        {
            return message;
        }

        int byteCount = Encoding.UTF8.GetByteCount(message);
        byte[] rented = ArrayPool<byte>.Shared.Rent(byteCount);
        try
        {
            int written = Encoding.UTF8.GetBytes(message, rented);
            var builder = new StringBuilder(written * 3);
            foreach (byte b in rented.AsSpan(0, written))
            {
                if (b is >= 0x20 and <= 0x7E && b != (byte)'%')
                {
                    builder.Append((char)b);
                }
                else
                {
                    builder.Append('%').Append(HexUpper(b >> 4)).Append(HexUpper(b & 0xF));
                }
            }

            return builder.ToString();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public static string Decode(string encoded)
    {
        if (!encoded.Contains('%', StringComparison.Ordinal))
        {
            return encoded;
        }

        // Every char of a valid value is ASCII; anything else is kept as its UTF-8 bytes.
        byte[] rented = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(encoded.Length));
        try
        {
            int n = 0;
            for (int i = 0; i < encoded.Length; i++)
            {
                char c = encoded[i];
                if (c == '%' && i + 2 < encoded.Length && TryHex(encoded[i + 1], out int hi) && TryHex(encoded[i + 2], out int lo))
                {
                    rented[n++] = (byte)((hi << 4) | lo);
                    i += 2;
                }
                else if (c < 0x80)
                {
                    rented[n++] = (byte)c;
                }
                else
                {
                    n += Encoding.UTF8.GetBytes(encoded.AsSpan(i, char.IsHighSurrogate(c) && i + 1 < encoded.Length ? 2 : 1), rented.AsSpan(n));
                    if (char.IsHighSurrogate(c) && i + 1 < encoded.Length)
                    {
                        i++;
                    }
                }
            }

            return Encoding.UTF8.GetString(rented, 0, n);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static bool NeedsEncoding(string message)
    {
        foreach (char c in message)
        {
            if (c is < (char)0x20 or > (char)0x7E or '%')
            {
                return true;
            }
        }

        return false;
    }

    private static char HexUpper(int nibble) => (char)(nibble < 10 ? '0' + nibble : 'A' + nibble - 10);

    private static bool TryHex(char c, out int value)
    {
        value = c switch
        {
            >= '0' and <= '9' => c - '0',
            >= 'a' and <= 'f' => c - 'a' + 10,
            >= 'A' and <= 'F' => c - 'A' + 10,
            _ => -1,
        };
        return value >= 0;
    }
}
