using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Snapshotter.Fuse.Protocol;

namespace Snapshotter.Fuse.Tests.Protocol;

public sealed class FuseWireTests
{
    [Fact]
    public void StructSizes_EqualKernelHeader()
    {
        // Sizes from include/uapi/linux/fuse.h (7.45).
        Assert.Equal(40, Unsafe.SizeOf<FuseInHeader>());
        Assert.Equal(16, Unsafe.SizeOf<FuseOutHeader>());
        Assert.Equal(64, Unsafe.SizeOf<FuseInitIn>());
        Assert.Equal(64, Unsafe.SizeOf<FuseInitOut>());
        Assert.Equal(88, Unsafe.SizeOf<FuseAttr>());
        Assert.Equal(128, Unsafe.SizeOf<FuseEntryOut>());
        Assert.Equal(104, Unsafe.SizeOf<FuseAttrOut>());
        Assert.Equal(8, Unsafe.SizeOf<FuseOpenIn>());
        Assert.Equal(16, Unsafe.SizeOf<FuseOpenOut>());
        Assert.Equal(40, Unsafe.SizeOf<FuseReadIn>());
        Assert.Equal(24, Unsafe.SizeOf<FuseReleaseIn>());
        Assert.Equal(80, Unsafe.SizeOf<FuseKstatfs>());
        Assert.Equal(16, Unsafe.SizeOf<FuseForgetOne>());
        Assert.Equal(16, Unsafe.SizeOf<FuseBackingMap>());
        Assert.Equal(16, Unsafe.SizeOf<FuseNotifyInvalEntryOut>());
        Assert.Equal(24, Unsafe.SizeOf<FuseDirentHeader>());
    }

    [Fact]
    public void Read_InHeader_DecodesFieldsAtKernelOffsets()
    {
        var bytes = new byte[40];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(0), 80);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), 15);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8), 0x1122334455667788);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(16), 7);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(24), 1000);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(28), 1001);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(32), 4242);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(36), 3);

        var header = FuseWire.Read<FuseInHeader>(bytes);

        Assert.Equal(80u, header.Len);
        Assert.Equal((uint)FuseOpcode.Read, header.Opcode);
        Assert.Equal(0x1122334455667788UL, header.Unique);
        Assert.Equal(7UL, header.NodeId);
        Assert.Equal(1000u, header.Uid);
        Assert.Equal(1001u, header.Gid);
        Assert.Equal(4242u, header.Pid);
        Assert.Equal(3, header.TotalExtlen);
    }

    [Fact]
    public void WriteOutHeader_ErrorReply_EncodesLenErrnoUnique()
    {
        var bytes = new byte[16];

        FuseWire.WriteOutHeader(bytes, 0xAABBCCDDEEFF0011, -5, 0);

        Assert.Equal("10000000" + "FBFFFFFF" + "1100FFEEDDCCBBAA", Convert.ToHexString(bytes));
    }

    [Fact]
    public void WriteOutHeader_DataReply_LenCountsBody()
    {
        var bytes = new byte[16];

        FuseWire.WriteOutHeader(bytes, 2, 0, 4096);

        Assert.Equal(16u + 4096, BinaryPrimitives.ReadUInt32LittleEndian(bytes));
        Assert.Equal(0, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(4)));
    }

    [Fact]
    public void TryReadInitIn_CompatSize_LeavesFlags2Zero()
    {
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(0), 7);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), 31);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), 131072);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(12), (uint)(FuseInitFlags.AsyncRead | FuseInitFlags.MaxPages));

        Assert.True(FuseWire.TryReadInitIn(bytes, out var init));

        Assert.Equal(7u, init.Major);
        Assert.Equal(31u, init.Minor);
        Assert.Equal(131072u, init.MaxReadahead);
        Assert.Equal(FuseInitFlags.AsyncRead | FuseInitFlags.MaxPages, init.AllFlags);
    }

    [Fact]
    public void TryReadInitIn_TooShort_ReturnsFalse()
    {
        Assert.False(FuseWire.TryReadInitIn(new byte[12], out _));
    }

    [Fact]
    public void AllFlags_Flags2WithInitExt_AddsHighBits()
    {
        var bytes = new byte[64];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(0), 7);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), 45);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(12), (uint)FuseInitFlags.InitExt | 1);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(16), 1u << 5); // bit 37: FUSE_PASSTHROUGH

        Assert.True(FuseWire.TryReadInitIn(bytes, out var init));

        Assert.Equal(FuseInitFlags.InitExt | FuseInitFlags.AsyncRead | FuseInitFlags.Passthrough, init.AllFlags);
    }

    [Fact]
    public void AllFlags_Flags2WithoutInitExt_IgnoresHighBits()
    {
        var init = new FuseInitIn { Major = 7, Minor = 45, Flags = 1, Flags2 = 1u << 5 };

        Assert.Equal(FuseInitFlags.AsyncRead, init.AllFlags);
    }

    [Fact]
    public void InitOut_Encode_FieldsAtKernelOffsets()
    {
        var reply = new FuseInitOut
        {
            Major = 7,
            Minor = 45,
            MaxReadahead = 1 << 20,
            MaxBackground = 64,
            CongestionThreshold = 48,
            MaxWrite = 131072,
            TimeGran = 1,
            MaxPages = 256,
            MaxStackDepth = 1,
        };
        reply.SetFlags(FuseInitFlags.AsyncRead | FuseInitFlags.MaxPages | FuseInitFlags.Passthrough);
        var bytes = new byte[64];

        FuseWire.Write(bytes, in reply);

        Assert.Equal(7u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(0)));
        Assert.Equal(45u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4)));
        Assert.Equal(1u << 20, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)));
        Assert.Equal((uint)(FuseInitFlags.AsyncRead | FuseInitFlags.MaxPages | FuseInitFlags.InitExt), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(12)));
        Assert.Equal(64, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(16)));
        Assert.Equal(48, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(18)));
        Assert.Equal(131072u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(20)));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(24)));
        Assert.Equal(256, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(28)));
        Assert.Equal(1u << 5, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(32)));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(36)));
        Assert.All(bytes[40..], b => Assert.Equal(0, b));
    }

    [Fact]
    public void SetFlags_LowBitsOnly_DoesNotSetInitExt()
    {
        var reply = default(FuseInitOut);

        reply.SetFlags(FuseInitFlags.AsyncRead);

        Assert.Equal(1u, reply.Flags);
        Assert.Equal(0u, reply.Flags2);
    }

    [Fact]
    public void EntryOut_Encode_AttrFollowsTimeouts()
    {
        var entry = new FuseEntryOut
        {
            NodeId = 5,
            Generation = 0,
            EntryValid = 86400,
            AttrValid = 86400,
            EntryValidNsec = 7,
            AttrValidNsec = 9,
            Attr = new FuseAttr { Ino = 5, FileSize = 1234, Blocks = 3, Mode = 0x8124, Nlink = 1, Blksize = 4096, Mtime = 1700000000 },
        };
        var bytes = new byte[128];

        FuseWire.Write(bytes, in entry);

        Assert.Equal(5UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(0)));
        Assert.Equal(86400UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(16)));
        Assert.Equal(86400UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(24)));
        Assert.Equal(7u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(32)));
        Assert.Equal(9u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(36)));
        Assert.Equal(5UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(40)));          // attr.ino
        Assert.Equal(1234UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(48)));       // attr.size
        Assert.Equal(3UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(56)));          // attr.blocks
        Assert.Equal(1700000000UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(72))); // attr.mtime
        Assert.Equal(0x8124u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(100)));     // attr.mode
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(104)));          // attr.nlink
        Assert.Equal(4096u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(120)));       // attr.blksize
    }

    [Fact]
    public void OpenOut_Encode_BackingIdAfterFlags()
    {
        var open = new FuseOpenOut { Fh = 0x0102, OpenFlags = (uint)(FuseOpenFlags.Passthrough | FuseOpenFlags.NoFlush), BackingId = 3 };
        var bytes = new byte[16];

        FuseWire.Write(bytes, in open);

        Assert.Equal("0201000000000000" + "A0000000" + "03000000", Convert.ToHexString(bytes));
    }

    [Fact]
    public void ReadIn_Decode_OffsetAndSize()
    {
        var bytes = new byte[40];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(0), 9);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8), 1L << 33);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(16), 131072);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(32), 0x8000);

        var read = FuseWire.Read<FuseReadIn>(bytes);

        Assert.Equal(9UL, read.Fh);
        Assert.Equal(1UL << 33, read.Offset);
        Assert.Equal(131072u, read.ReadSize);
        Assert.Equal(0x8000u, read.Flags);
    }

    [Fact]
    public void Kstatfs_Encode_BsizeAfterFiveCounters()
    {
        var statfs = new FuseKstatfs { Blocks = 10, Files = 3, Bsize = 4096, Namelen = 255, Frsize = 4096 };
        var bytes = new byte[80];

        FuseWire.Write(bytes, in statfs);

        Assert.Equal(10UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(0)));
        Assert.Equal(3UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(24)));
        Assert.Equal(4096u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(40)));
        Assert.Equal(255u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(44)));
        Assert.Equal(4096u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(48)));
    }

    [Fact]
    public void TryAppendDirent_Name_PadsRecordToEightBytesWithZeros()
    {
        var bytes = new byte[64];
        bytes.AsSpan().Fill(0xEE);
        var position = 0;

        Assert.True(FuseWire.TryAppendDirent(bytes, ref position, 42, 3, FuseWire.DtReg, "abc"u8));

        Assert.Equal(32, position);
        Assert.Equal(42UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(0)));
        Assert.Equal(3UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(8)));
        Assert.Equal(3u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(16)));
        Assert.Equal(8u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(20)));
        Assert.Equal("abc"u8.ToArray(), bytes[24..27]);
        Assert.Equal(new byte[5], bytes[27..32]);
        Assert.Equal(0xEE, bytes[32]);
    }

    [Fact]
    public void TryAppendDirent_DoesNotFit_ReturnsFalseAndKeepsPosition()
    {
        var bytes = new byte[40];
        var position = 16;

        Assert.False(FuseWire.TryAppendDirent(bytes, ref position, 1, 1, FuseWire.DtReg, "name"u8));

        Assert.Equal(16, position);
    }

    [Fact]
    public void TryAppendDirentPlus_Record_EntryThenDirentThenName()
    {
        var bytes = new byte[256];
        var position = 0;
        var entry = new FuseEntryOut { NodeId = 7, EntryValid = 1, Attr = new FuseAttr { Ino = 7, FileSize = 99 } };

        Assert.True(FuseWire.TryAppendDirentPlus(bytes, ref position, in entry, 5, FuseWire.DtReg, "blob.img"u8));

        Assert.Equal(FuseWire.DirentPlusSize(8), position);
        Assert.Equal(160, position);
        Assert.Equal(7UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(0)));
        Assert.Equal(99UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(48)));
        Assert.Equal(7UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(128)));
        Assert.Equal(5UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(136)));
        Assert.Equal(8u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(144)));
        Assert.Equal(8u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(148)));
        Assert.Equal("blob.img"u8.ToArray(), bytes[152..160]);
    }

    [Fact]
    public void TryAppendDirentPlus_DotWithoutNode_NodeIdZeroAndRootIno()
    {
        var bytes = new byte[256];
        var position = 0;

        Assert.True(FuseWire.TryAppendDirentPlus(bytes, ref position, default, 1, FuseWire.DtDir, "."u8));

        Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(0)));
        Assert.Equal(FuseWire.RootId, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(128)));
        Assert.Equal(FuseWire.DtDir, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(148)));
    }

    [Fact]
    public void WriteInvalEntry_Name_HeaderBodyNameNul()
    {
        var bytes = new byte[64];

        var length = FuseWire.WriteInvalEntry(bytes, 1, "ab"u8);

        Assert.Equal(16 + 16 + 3, length);
        Assert.Equal(
            "23000000" + "03000000" + "0000000000000000" + "0100000000000000" + "02000000" + "00000000" + "616200",
            Convert.ToHexString(bytes, 0, length));
    }

    [Fact]
    public void ReadName_NulTerminated_StopsAtNul()
    {
        Assert.Equal("meta.img"u8.ToArray(), FuseWire.ReadName("meta.img\0junk"u8).ToArray());
        Assert.True(FuseWire.ReadName("no-terminator"u8).IsEmpty);
    }

    [Fact]
    public void SplitTimeout_FractionalSeconds_SplitsIntoSecondsAndNanoseconds()
    {
        Assert.Equal((1UL, 500_000_000u), FuseWire.SplitTimeout(TimeSpan.FromMilliseconds(1500)));
        Assert.Equal((86400UL, 0u), FuseWire.SplitTimeout(TimeSpan.FromDays(1)));
        Assert.Equal((0UL, 0u), FuseWire.SplitTimeout(TimeSpan.FromSeconds(-1)));
    }

    [Fact]
    public void IoctlNumbers_MatchKernelMacros()
    {
        // _IOC(dir, type 229, nr, size): dir 2 = read (_IOR), 1 = write (_IOW); size in bits 16..29.
        static uint Ioc(uint dir, uint nr, uint size) => (dir << 30) | (size << 16) | (229u << 8) | nr;

        Assert.Equal(FuseWire.DevIocClone, Ioc(2, 0, 4));
        Assert.Equal(FuseWire.DevIocBackingOpen, Ioc(1, 1, 16));
        Assert.Equal(FuseWire.DevIocBackingClose, Ioc(1, 2, 4));
    }
}
