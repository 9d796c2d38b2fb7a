namespace Snapshotter.Erofs.Format;

/// <summary>
/// Byte offsets of the fields of the on-disk structs, named as the kernel (<c>fs/erofs/erofs_fs.h</c>) and Nydus
/// (<c>rafs/src/metadata/layout/v6.rs</c>) name them; the reader and the writer both use these.
/// </summary>
internal static class ErofsFieldOffsets
{
    /// <summary><c>struct erofs_super_block</c>, at <see cref="ErofsFormat.SuperOffset"/>.</summary>
    public static class Super
    {
        public const int Magic = 0;
        public const int Checksum = 4;
        public const int FeatureCompat = 8;
        public const int BlockSizeBits = 12;
        public const int RootNid = 14;
        public const int Inodes = 16;
        public const int BuildTime = 24;
        public const int BuildTimeNsec = 32;
        public const int Blocks = 36;
        public const int MetaBlockAddress = 40;
        public const int XattrBlockAddress = 44;
        public const int FeatureIncompat = 80;
        public const int ExtraDevices = 86;
        public const int DeviceTableSlotOffset = 88;
    }

    /// <summary><c>struct erofs_inode_extended</c> (64 bytes).</summary>
    public static class Inode
    {
        public const int Format = 0;
        public const int XattrCount = 2;
        public const int Mode = 4;
        public const int Size = 8;
        public const int Union = 16;
        public const int Ino = 20;
        public const int Uid = 24;
        public const int Gid = 28;
        public const int Mtime = 32;
        public const int MtimeNsec = 40;
        public const int Nlink = 44;
    }

    /// <summary><c>struct erofs_inode_compact</c> (32 bytes): the fields that differ from the extended inode.</summary>
    public static class CompactInode
    {
        public const int Nlink = 6;
        public const int Size = 8;
        public const int Uid = 24;
        public const int Gid = 26;
    }

    /// <summary><c>struct erofs_dirent</c> (12 bytes).</summary>
    public static class Dirent
    {
        public const int Nid = 0;
        public const int NameOffset = 8;
        public const int FileType = 10;
    }

    /// <summary><c>struct erofs_inode_chunk_index</c> (8 bytes).</summary>
    public static class ChunkIndex
    {
        public const int Advise = 0;
        public const int DeviceId = 2;
        public const int BlockAddress = 4;
    }

    /// <summary><c>struct erofs_deviceslot</c> (128 bytes).</summary>
    public static class DeviceSlot
    {
        public const int Tag = 0;
        public const int Blocks = 64;
        public const int MappedBlockAddress = 68;
    }

    /// <summary>Nydus <c>RafsV6SuperBlockExt</c>, at <see cref="ErofsFormat.RafsExtSuperOffset"/>.</summary>
    public static class RafsSuper
    {
        public const int Flags = 0;
        public const int BlobTableOffset = 8;
        public const int BlobTableSize = 16;
        public const int ChunkSize = 20;
    }

    /// <summary>Nydus <c>RafsV6Blob</c> (256 bytes), one per data blob in the blob table.</summary>
    public static class RafsBlob
    {
        public const int BlobId = 0;
        public const int BlobIdSize = 64;
        public const int Index = 64;
        public const int ChunkSize = 68;
        public const int ChunkCount = 72;
        public const int CompressionAlgorithm = 76;
        public const int DigestAlgorithm = 80;
        public const int Features = 84;
        public const int CompressedSize = 88;
        public const int UncompressedSize = 96;
        public const int TocSize = 104;
        public const int ChunkInfoCompressor = 108;
        public const int ChunkInfoOffset = 112;
        public const int ChunkInfoCompressedSize = 120;
        public const int ChunkInfoUncompressedSize = 128;
    }
}
