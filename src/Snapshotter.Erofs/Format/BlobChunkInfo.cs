using System.Buffers.Binary;

namespace Snapshotter.Erofs.Format;

/// <summary>
/// One record of a data blob's chunk-info table (Nydus <c>BlobChunkInfoV2Ondisk</c>, 24 bytes):
/// where a chunk lives in the blob's uncompressed address space and in the compressed file.
/// </summary>
public readonly record struct BlobChunkInfo(ulong UncompressedOffset, uint UncompressedSize, ulong CompressedOffset, uint CompressedSize, bool IsCompressed)
{
    internal const int Size = 24;
    private const ulong FlagCompressed = 1UL << 56;
    private const ulong ValidFlags = 0x1FUL << 56;
    private const ulong SizeMask = 0xFF_FFFF;
    private const ulong CompressedOffsetMask = 0xFF_FFFF_FFFF;

    internal void Write(Span<byte> destination)
    {
        ulong uncomp = ((UncompressedOffset >> ErofsFormat.BlockBits) & 0xFFFF_FFFF) | ((ulong)(UncompressedSize - 1) << 32);
        if (IsCompressed)
        {
            uncomp |= FlagCompressed;
        }

        ulong comp = (CompressedOffset & CompressedOffsetMask) | ((ulong)CompressedSize << 40);
        BinaryPrimitives.WriteUInt64LittleEndian(destination, uncomp);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], comp);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], 0);
    }

    /// <summary>Decodes one record; rejects flags this reader cannot honour (ZRAN, batch, encryption).</summary>
    internal static BlobChunkInfo Read(ReadOnlySpan<byte> source, int index)
    {
        ulong uncomp = BinaryPrimitives.ReadUInt64LittleEndian(source);
        ulong comp = BinaryPrimitives.ReadUInt64LittleEndian(source[8..]);
        ulong flags = uncomp & (0xFFUL << 56);
        if ((flags & ~ValidFlags) != 0 || (flags & ~(FlagCompressed | (0x10UL << 56))) != 0)
        {
            throw new InvalidImageException($"chunk-info entry {index}: unsupported flags 0x{flags >> 56:x2} (only COMPRESSED and CRC32 are supported)");
        }

        return new BlobChunkInfo(
            (uncomp & 0xFFFF_FFFF) << ErofsFormat.BlockBits,
            (uint)(((uncomp >> 32) & SizeMask) + 1),
            comp & CompressedOffsetMask,
            (uint)(comp >> 40),
            (flags & FlagCompressed) != 0);
    }
}
