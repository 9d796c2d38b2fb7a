using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Snapshotter.Fuse.Protocol;

/// <summary>
/// Encodes and decodes the FUSE wire structs (native byte order, as the kernel reads and writes them) and the
/// variable-length records: dirents, names, notifications. Every method works on spans: nothing is allocated.
/// </summary>
internal static class FuseWire
{
    /// <summary>The kernel ABI version this server speaks (7.x; the reply minor is the smaller of both).</summary>
    public const uint KernelMajor = 7;

    /// <summary>The newest minor whose structs this file lays out (fuse.h 7.45: Linux 6.18).</summary>
    public const uint KernelMinor = 45;

    /// <summary>The oldest minor accepted (7.31, Linux 5.10: max_pages and readdirplus exist); Linux 6.1 speaks 7.37.</summary>
    public const uint OldestMinor = 31;

    /// <summary>Node id of the root directory (<c>FUSE_ROOT_ID</c>).</summary>
    public const ulong RootId = 1;

    /// <summary>Bit 0 of an INTERRUPT request's unique (<c>FUSE_INT_REQ_BIT</c>): its own unique, not the target's.</summary>
    public const ulong InterruptRequestBit = 1;

    /// <summary>Smallest read(2) buffer the kernel accepts (<c>FUSE_MIN_READ_BUFFER</c>).</summary>
    public const int MinReadBuffer = 8192;

    /// <summary>d_type of a directory entry (DT_DIR, DT_REG).</summary>
    public const uint DtDir = 4;

    /// <inheritdoc cref="DtDir"/>
    public const uint DtReg = 8;

    public const uint SIfDir = 0x4000;
    public const uint SIfReg = 0x8000;

    // Device ioctls: _IOR(229, 0, uint32_t), _IOW(229, 1, struct fuse_backing_map), _IOW(229, 2, uint32_t).
    public const uint DevIocClone = 0x8004E500;
    public const uint DevIocBackingOpen = 0x4010E501;
    public const uint DevIocBackingClose = 0x4004E502;

    public static T Read<T>(ReadOnlySpan<byte> source)
        where T : unmanaged => MemoryMarshal.Read<T>(source);

    public static void Write<T>(Span<byte> destination, in T value)
        where T : unmanaged => MemoryMarshal.Write(destination, in value);

    /// <summary>Reads an INIT request body of either size (16 bytes before 7.36, 64 from then on).</summary>
    public static bool TryReadInitIn(ReadOnlySpan<byte> body, out FuseInitIn init)
    {
        init = default;
        if (body.Length < FuseInitIn.CompatSize)
        {
            return false;
        }

        var length = Math.Min(body.Length, FuseInitIn.Size);
        body[..length].CopyTo(MemoryMarshal.AsBytes(new Span<FuseInitIn>(ref init)));
        if (body.Length < FuseInitIn.Size)
        {
            init.Flags2 = 0;
        }

        return true;
    }

    /// <summary>Writes a reply header for a body of <paramref name="bodyLength"/> bytes (error 0 or -errno).</summary>
    public static void WriteOutHeader(Span<byte> destination, ulong unique, int error, int bodyLength)
    {
        var header = new FuseOutHeader { Len = (uint)(FuseOutHeader.Size + bodyLength), Error = error, Unique = unique };
        Write(destination, in header);
    }

    /// <summary>The NUL-terminated name at the start of a LOOKUP body, without its NUL (empty when malformed).</summary>
    public static ReadOnlySpan<byte> ReadName(ReadOnlySpan<byte> body)
    {
        var end = body.IndexOf((byte)0);
        return end < 0 ? ReadOnlySpan<byte>.Empty : body[..end];
    }

    /// <summary>Size of a READDIR record for a name of <paramref name="nameLength"/> bytes (8-byte aligned).</summary>
    public static int DirentSize(int nameLength) => Align8(FuseDirentHeader.Size + nameLength);

    /// <summary>Size of a READDIRPLUS record (entry_out + dirent + name, 8-byte aligned).</summary>
    public static int DirentPlusSize(int nameLength) => Align8(FuseEntryOut.Size + FuseDirentHeader.Size + nameLength);

    /// <summary>
    /// Appends one READDIR record at <paramref name="position"/> if it fits; padding bytes are zeroed.
    /// <paramref name="nextOffset"/> is the directory offset of the entry after this one.
    /// </summary>
    public static bool TryAppendDirent(Span<byte> destination, ref int position, ulong ino, ulong nextOffset, uint type, ReadOnlySpan<byte> name)
    {
        var size = DirentSize(name.Length);
        if (position + size > destination.Length)
        {
            return false;
        }

        var record = destination.Slice(position, size);
        var header = new FuseDirentHeader { Ino = ino, Off = nextOffset, Namelen = (uint)name.Length, Type = type };
        Write(record, in header);
        name.CopyTo(record[FuseDirentHeader.Size..]);
        record[(FuseDirentHeader.Size + name.Length)..].Clear();
        position += size;
        return true;
    }

    /// <summary>Appends one READDIRPLUS record (the entry as LOOKUP would answer it, then the dirent) if it fits.</summary>
    public static bool TryAppendDirentPlus(Span<byte> destination, ref int position, in FuseEntryOut entry, ulong nextOffset, uint type, ReadOnlySpan<byte> name)
    {
        var size = DirentPlusSize(name.Length);
        if (position + size > destination.Length)
        {
            return false;
        }

        var record = destination.Slice(position, size);
        Write(record, in entry);
        var ino = entry.NodeId != 0 ? entry.Attr.Ino : (type == DtDir ? RootId : 0);
        var header = new FuseDirentHeader { Ino = ino, Off = nextOffset, Namelen = (uint)name.Length, Type = type };
        Write(record[FuseEntryOut.Size..], in header);
        name.CopyTo(record[(FuseEntryOut.Size + FuseDirentHeader.Size)..]);
        record[(FuseEntryOut.Size + FuseDirentHeader.Size + name.Length)..].Clear();
        position += size;
        return true;
    }

    /// <summary>
    /// Writes a FUSE_NOTIFY_INVAL_ENTRY message (header with unique 0, body, name, NUL); returns its length.
    /// <paramref name="destination"/> must hold <c>16 + 16 + name + 1</c> bytes.
    /// </summary>
    public static int WriteInvalEntry(Span<byte> destination, ulong parent, ReadOnlySpan<byte> name)
    {
        var bodyLength = FuseNotifyInvalEntryOut.Size + name.Length + 1;
        WriteOutHeader(destination, 0, (int)FuseNotifyCode.InvalEntry, bodyLength);
        var body = new FuseNotifyInvalEntryOut { Parent = parent, Namelen = (uint)name.Length, Flags = 0 };
        Write(destination[FuseOutHeader.Size..], in body);
        name.CopyTo(destination[(FuseOutHeader.Size + FuseNotifyInvalEntryOut.Size)..]);
        destination[FuseOutHeader.Size + FuseNotifyInvalEntryOut.Size + name.Length] = 0;
        return FuseOutHeader.Size + bodyLength;
    }

    /// <summary>Converts a timeout to the (seconds, nanoseconds) pair of entry_valid/attr_valid.</summary>
    public static (ulong Seconds, uint Nanoseconds) SplitTimeout(TimeSpan timeout)
    {
        if (timeout <= TimeSpan.Zero)
        {
            return (0, 0);
        }

        var ticks = timeout.Ticks;
        return ((ulong)(ticks / TimeSpan.TicksPerSecond), (uint)(ticks % TimeSpan.TicksPerSecond * 100));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Align8(int value) => (value + 7) & ~7;
}
