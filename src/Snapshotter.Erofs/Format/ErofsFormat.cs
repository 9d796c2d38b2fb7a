namespace Snapshotter.Erofs.Format;

/// <summary>
/// On-disk constants of EROFS (Linux <c>fs/erofs/erofs_fs.h</c>) and the Nydus RAFS v6 additions
/// (<c>rafs/src/metadata/layout/v6.rs</c>, <c>storage/src/meta</c>). All integers are little-endian.
/// </summary>
internal static class ErofsFormat
{
    public const uint SuperMagic = 0xE0F5E1E2;
    public const int SuperOffset = 1024;
    public const int SuperSize = 128;
    public const int BlockBits = 12;
    public const int BlockSize = 1 << BlockBits;

    public const uint FeatureCompatSbChecksum = 0x1;
    public const uint FeatureCompatMtime = 0x2;
    public const uint FeatureCompatRafsV6 = 0x40000000;
    public const uint FeatureIncompatZeroPadding = 0x1;
    public const uint FeatureIncompatChunkedFile = 0x4;
    public const uint FeatureIncompatDeviceTable = 0x8;

    // Incompat bits this reader understands for uncompressed images; anything else is refused.
    public const uint SupportedIncompat = FeatureIncompatZeroPadding | FeatureIncompatChunkedFile | FeatureIncompatDeviceTable;

    public const int InodeSlotBits = 5;
    public const int CompactInodeSize = 32;
    public const int ExtendedInodeSize = 64;

    public const int LayoutFlatPlain = 0;
    public const int LayoutCompressedFull = 1;
    public const int LayoutFlatInline = 2;
    public const int LayoutCompressedCompact = 3;
    public const int LayoutChunkBased = 4;

    public const ushort ChunkFormatBlkBitsMask = 0x1F;
    public const ushort ChunkFormatIndexes = 0x20;
    public const uint NullAddress = 0xFFFFFFFF;
    public const int ChunkIndexSize = 8;

    public const int DirentSize = 12;
    public const int MaxNameLength = 255;

    public const int DeviceSlotSize = 128;
    public const int DeviceTagSize = 64;

    public const int XattrHeaderSize = 12;
    public const int XattrEntryHeaderSize = 4;

    // File-type bits of i_mode (S_IFMT and the S_IF* values of stat(2)); the low 12 bits are the permissions.
    public const uint ModeTypeMask = 0xF000;
    public const uint ModeFifo = 0x1000;
    public const uint ModeCharDevice = 0x2000;
    public const uint ModeDirectory = 0x4000;
    public const uint ModeBlockDevice = 0x6000;
    public const uint ModeRegular = 0x8000;
    public const uint ModeSymlink = 0xA000;
    public const uint ModeSocket = 0xC000;

    // File types in dirents (the generic FT_* values).
    public const byte FtUnknown = 0;
    public const byte FtRegular = 1;
    public const byte FtDirectory = 2;
    public const byte FtCharDevice = 3;
    public const byte FtBlockDevice = 4;
    public const byte FtFifo = 5;
    public const byte FtSocket = 6;
    public const byte FtSymlink = 7;

    // RAFS v6: 256-byte extended superblock right after the EROFS one, device table after it.
    public const int RafsExtSuperOffset = SuperOffset + SuperSize;
    public const int RafsExtSuperSize = 256;
    public const int RafsDeviceTableOffset = RafsExtSuperOffset + RafsExtSuperSize;
    public const int RafsBlobRecordSize = 256;
    public const ulong RafsFlagCompressionNone = 0x1;
    public const ulong RafsFlagCompressionLz4 = 0x2;
    public const ulong RafsFlagDigestBlake3 = 0x4;
    public const ulong RafsFlagDigestSha256 = 0x8;
    public const ulong RafsFlagExplicitUidGid = 0x10;
    public const ulong RafsFlagHasXattr = 0x20;
    public const ulong RafsFlagCompressionGzip = 0x40;
    public const ulong RafsFlagCompressionZstd = 0x80;

    // Nydus aligns every device's mapped_blkaddr to 512 KiB.
    public const uint DeviceMappedAlignBlocks = (512 * 1024) / BlockSize;

    public const int MinChunkSize = BlockSize;
    public const int MaxChunkSize = 16 * 1024 * 1024;

    public static byte FileTypeFromMode(uint mode) => (mode & ModeTypeMask) switch
    {
        ModeRegular => FtRegular,
        ModeDirectory => FtDirectory,
        ModeCharDevice => FtCharDevice,
        ModeBlockDevice => FtBlockDevice,
        ModeFifo => FtFifo,
        ModeSocket => FtSocket,
        ModeSymlink => FtSymlink,
        _ => FtUnknown,
    };

    public static ulong RafsCompressionFlag(ChunkCompressor compressor) => compressor switch
    {
        ChunkCompressor.None => RafsFlagCompressionNone,
        ChunkCompressor.Lz4Block => RafsFlagCompressionLz4,
        ChunkCompressor.Gzip => RafsFlagCompressionGzip,
        _ => RafsFlagCompressionZstd,
    };

    public static ulong RafsDigestFlag(ChunkDigester digester) => digester == ChunkDigester.Blake3 ? RafsFlagDigestBlake3 : RafsFlagDigestSha256;

    /// <summary>Linux <c>new_encode_dev</c>: the rdev encoding EROFS stores in <c>i_u</c>.</summary>
    public static uint EncodeDevice(uint major, uint minor) => (minor & 0xFF) | (major << 8) | ((minor & ~0xFFu) << 12);

    public static (uint Major, uint Minor) DecodeDevice(uint rdev) => ((rdev & 0xFFF00) >> 8, (rdev & 0xFF) | ((rdev >> 12) & 0xFFF00));
}
