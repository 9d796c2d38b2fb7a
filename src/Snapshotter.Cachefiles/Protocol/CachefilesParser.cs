using System.Buffers.Binary;
using System.Text;

namespace Snapshotter.Cachefiles.Protocol;

/// <summary>
/// Parses messages of the merged on-demand ABI (Linux 6.1+): a 16-byte header
/// <c>{u32 msg_id; u32 opcode; u32 len; u32 object_id}</c> then the payload; <c>len</c> includes the header.
/// Never throws: malformed input yields an error text so that the daemon can log it and keep running.
/// </summary>
internal static class CachefilesParser
{
    /// <summary><c>CACHEFILES_MSG_MAX_SIZE</c>: one read(2) returns at most one message of this size.</summary>
    public const int MaxMessageSize = 1024;

    public const int HeaderSize = 16;

    /// <summary>OPEN payload header: <c>{u32 volume_key_size; u32 cookie_key_size; u32 fd; u32 flags}</c>.</summary>
    public const int OpenHeaderSize = 16;

    /// <summary>READ payload: <c>{u64 off; u64 len}</c>.</summary>
    public const int ReadPayloadSize = 16;

    /// <summary>Parses one message; returns false with <paramref name="error"/> set when it is malformed.</summary>
    public static bool TryParse(ReadOnlySpan<byte> message, out CachefilesRequest request, out string? error)
    {
        request = default;
        if (message.Length < HeaderSize)
        {
            error = $"message of {message.Length} bytes is shorter than the {HeaderSize}-byte header";
            return false;
        }

        var (msgId, opcode, len, objectId) = ReadHeader(message);
        if (len < HeaderSize || len > message.Length || len > MaxMessageSize)
        {
            error = $"message {msgId}: length field {len} does not fit the {message.Length} bytes read";
            return false;
        }

        var payload = message[HeaderSize..(int)len];
        switch ((CachefilesOpcode)opcode)
        {
            case CachefilesOpcode.Read:
                if (payload.Length < ReadPayloadSize)
                {
                    error = $"READ message {msgId}: payload of {payload.Length} bytes, expected {ReadPayloadSize}";
                    return false;
                }

                request = new CachefilesRequest(
                    msgId,
                    CachefilesOpcode.Read,
                    objectId,
                    BinaryPrimitives.ReadUInt64LittleEndian(payload),
                    BinaryPrimitives.ReadUInt64LittleEndian(payload[8..]),
                    -1,
                    0,
                    null,
                    null);
                error = null;
                return true;

            case CachefilesOpcode.Close:
                request = new CachefilesRequest(msgId, CachefilesOpcode.Close, objectId, 0, 0, -1, 0, null, null);
                error = null;
                return true;

            case CachefilesOpcode.Open:
                return TryParseOpen(msgId, objectId, payload, out request, out error);

            default:
                error = $"message {msgId}: unknown opcode {opcode}";
                return false;
        }
    }

    private static bool TryParseOpen(uint msgId, uint objectId, ReadOnlySpan<byte> payload, out CachefilesRequest request, out string? error)
    {
        request = default;
        if (payload.Length < OpenHeaderSize)
        {
            error = $"OPEN message {msgId}: payload of {payload.Length} bytes is shorter than its {OpenHeaderSize}-byte header";
            return false;
        }

        var (volumeSize, cookieSize, fd, flags) = ReadHeader(payload);
        var data = payload[OpenHeaderSize..];
        if (volumeSize == 0 || (ulong)volumeSize + cookieSize > (ulong)data.Length)
        {
            error = $"OPEN message {msgId}: key sizes {volumeSize}+{cookieSize} do not fit {data.Length} payload bytes";
            return false;
        }

        if (fd > int.MaxValue)
        {
            error = $"OPEN message {msgId}: invalid fd {fd}";
            return false;
        }

        // The volume key's size includes its terminating NUL; the cookie key is binary (EROFS puts text in it).
        var volumeKey = DecodeKey(data[..(int)volumeSize]);
        var cookieKey = DecodeKey(data.Slice((int)volumeSize, (int)cookieSize));
        request = new CachefilesRequest(msgId, CachefilesOpcode.Open, objectId, 0, 0, (int)fd, flags, volumeKey, cookieKey);
        error = null;
        return true;
    }

    /// <summary>
    /// The four little-endian u32 fields of a 16-byte header: the message header and OPEN's payload header share
    /// this layout. The caller has checked the length.
    /// </summary>
    private static (uint First, uint Second, uint Third, uint Fourth) ReadHeader(ReadOnlySpan<byte> header) => (
        BinaryPrimitives.ReadUInt32LittleEndian(header),
        BinaryPrimitives.ReadUInt32LittleEndian(header[4..]),
        BinaryPrimitives.ReadUInt32LittleEndian(header[8..]),
        BinaryPrimitives.ReadUInt32LittleEndian(header[12..]));

    /// <summary>A key as text, up to its first NUL (or all of it when it has none).</summary>
    private static string DecodeKey(ReadOnlySpan<byte> key)
    {
        var nul = key.IndexOf((byte)0);
        return Encoding.UTF8.GetString(nul >= 0 ? key[..nul] : key);
    }
}
