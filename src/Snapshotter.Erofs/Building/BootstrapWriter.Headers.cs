using System.Buffers.Binary;
using System.Text;
using static Snapshotter.Erofs.Format.ErofsFieldOffsets;

namespace Snapshotter.Erofs.Building;

// Headers: superblock, RAFS extended superblock, device table, blob table and the superblock checksum.
internal static partial class BootstrapWriter
{
    private static void WriteSuperblock(byte[] image, List<Plan> plans, int deviceCount, uint metaBlkaddr, uint blocks)
    {
        Span<byte> sb = image.AsSpan(ErofsFormat.SuperOffset, ErofsFormat.SuperSize);
        BinaryPrimitives.WriteUInt32LittleEndian(sb[Super.Magic..], ErofsFormat.SuperMagic);
        BinaryPrimitives.WriteUInt32LittleEndian(sb[Super.FeatureCompat..], ErofsFormat.FeatureCompatRafsV6 | ErofsFormat.FeatureCompatSbChecksum);
        sb[Super.BlockSizeBits] = ErofsFormat.BlockBits;
        BinaryPrimitives.WriteUInt16LittleEndian(sb[Super.RootNid..], (ushort)plans[0].Nid);
        BinaryPrimitives.WriteUInt64LittleEndian(sb[Super.Inodes..], (ulong)plans.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(sb[Super.Blocks..], blocks);
        BinaryPrimitives.WriteUInt32LittleEndian(sb[Super.MetaBlockAddress..], metaBlkaddr);
        uint incompat = ErofsFormat.FeatureIncompatChunkedFile | (deviceCount > 0 ? ErofsFormat.FeatureIncompatDeviceTable : 0);
        BinaryPrimitives.WriteUInt32LittleEndian(sb[Super.FeatureIncompat..], incompat);
        BinaryPrimitives.WriteUInt16LittleEndian(sb[Super.ExtraDevices..], (ushort)deviceCount);
        BinaryPrimitives.WriteUInt16LittleEndian(sb[Super.DeviceTableSlotOffset..], ErofsFormat.RafsDeviceTableOffset / ErofsFormat.DeviceSlotSize);
    }

    private static void WriteExtendedSuperblock(byte[] image, List<Plan> plans, ChunkCompressor compressor, ChunkDigester digester, int chunkSize, long blobTableOffset, long blobTableSize)
    {
        Span<byte> ext = image.AsSpan(ErofsFormat.RafsExtSuperOffset, ErofsFormat.RafsExtSuperSize);
        ulong flags = ErofsFormat.RafsCompressionFlag(compressor) | ErofsFormat.RafsDigestFlag(digester) | ErofsFormat.RafsFlagExplicitUidGid;
        if (plans.Any(p => p.Xattrs.Length > 0))
        {
            flags |= ErofsFormat.RafsFlagHasXattr;
        }

        BinaryPrimitives.WriteUInt64LittleEndian(ext[RafsSuper.Flags..], flags);
        BinaryPrimitives.WriteUInt64LittleEndian(ext[RafsSuper.BlobTableOffset..], (ulong)blobTableOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(ext[RafsSuper.BlobTableSize..], (uint)blobTableSize);
        BinaryPrimitives.WriteUInt32LittleEndian(ext[RafsSuper.ChunkSize..], (uint)chunkSize);
    }

    /// <summary>Device table: tag = blob id, blocks = uncompressed size in blocks, mapped like Nydus (512 KiB aligned after the bootstrap).</summary>
    private static void WriteDeviceTable(byte[] image, List<DataBlobResult> devices, long totalBlocks)
    {
        long mapped = Align(totalBlocks, ErofsFormat.DeviceMappedAlignBlocks);
        for (int i = 0; i < devices.Count; i++)
        {
            Span<byte> slot = image.AsSpan(ErofsFormat.RafsDeviceTableOffset + (i * ErofsFormat.DeviceSlotSize), ErofsFormat.DeviceSlotSize);
            Encoding.ASCII.GetBytes(devices[i].BlobId, slot.Slice(DeviceSlot.Tag, ErofsFormat.DeviceTagSize));
            uint blocks = checked((uint)(devices[i].UncompressedSize / BlockSize));
            BinaryPrimitives.WriteUInt32LittleEndian(slot[DeviceSlot.Blocks..], blocks);
            BinaryPrimitives.WriteUInt32LittleEndian(slot[DeviceSlot.MappedBlockAddress..], checked((uint)mapped));
            mapped = Align(mapped + blocks, ErofsFormat.DeviceMappedAlignBlocks);
        }
    }

    private static void WriteBlobRecord(Span<byte> rec, DataBlobResult blob, uint index, ChunkCompressor compressor, ChunkDigester digester, int chunkSize)
    {
        Encoding.ASCII.GetBytes(blob.BlobId, rec.Slice(RafsBlob.BlobId, RafsBlob.BlobIdSize));
        BinaryPrimitives.WriteUInt32LittleEndian(rec[RafsBlob.Index..], index);
        BinaryPrimitives.WriteUInt32LittleEndian(rec[RafsBlob.ChunkSize..], (uint)chunkSize);
        BinaryPrimitives.WriteUInt32LittleEndian(rec[RafsBlob.ChunkCount..], (uint)blob.ChunkCount);
        BinaryPrimitives.WriteUInt32LittleEndian(rec[RafsBlob.CompressionAlgorithm..], (uint)compressor);
        BinaryPrimitives.WriteUInt32LittleEndian(rec[RafsBlob.DigestAlgorithm..], (uint)digester);
        BinaryPrimitives.WriteUInt32LittleEndian(rec[RafsBlob.Features..], BlobLayout.FeatureAligned | BlobLayout.FeatureChunkInfoV2 | BlobLayout.FeatureHasToc);
        BinaryPrimitives.WriteUInt64LittleEndian(rec[RafsBlob.CompressedSize..], blob.CompressedSize);
        BinaryPrimitives.WriteUInt64LittleEndian(rec[RafsBlob.UncompressedSize..], blob.UncompressedSize);

        BinaryPrimitives.WriteUInt32LittleEndian(rec[RafsBlob.TocSize..], BlobLayout.TocEntryCount * BlobLayout.TocEntrySize);
        BinaryPrimitives.WriteUInt32LittleEndian(rec[RafsBlob.ChunkInfoCompressor..], (uint)blob.ChunkInfoCompressor);
        BinaryPrimitives.WriteUInt64LittleEndian(rec[RafsBlob.ChunkInfoOffset..], blob.ChunkInfoOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(rec[RafsBlob.ChunkInfoCompressedSize..], blob.ChunkInfoCompressedSize);
        BinaryPrimitives.WriteUInt64LittleEndian(rec[RafsBlob.ChunkInfoUncompressedSize..], blob.ChunkInfoUncompressedSize);
    }

    /// <summary>crc32c of the first block from the superblock on, with the checksum field still zero.</summary>
    private static void WriteChecksum(byte[] image)
    {
        uint crc = Crc32C.Compute(image.AsSpan(ErofsFormat.SuperOffset, BlockSize - ErofsFormat.SuperOffset));
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(ErofsFormat.SuperOffset + Super.Checksum), crc);
    }
}
