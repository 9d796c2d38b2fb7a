using System.Buffers.Binary;
using System.Text;
using static Snapshotter.Erofs.Format.ErofsFieldOffsets;

namespace Snapshotter.Erofs.Reading;

public sealed partial class ErofsImage
{
    /// <summary>Reads an inode's extended attributes (shared and inline), in on-disk order.</summary>
    internal IReadOnlyList<ErofsXattr> ReadXattrs(ErofsInode inode)
    {
        if (inode.XattrSize == 0)
        {
            return [];
        }

        var result = new List<ErofsXattr>();
        long header = inode.Offset + inode.InodeSize;
        Span<byte> hdr = stackalloc byte[ErofsFormat.XattrHeaderSize];
        ReadExact(header, hdr, $"inode {inode.Nid} xattr header");
        int shared = hdr[4];
        int inlineStart = ErofsFormat.XattrHeaderSize + (shared * 4);
        if (inlineStart > inode.XattrSize)
        {
            throw new InvalidImageException($"inode {inode.Nid}: {shared} shared xattrs do not fit in {inode.XattrSize} bytes");
        }

        Span<byte> id = stackalloc byte[4];
        for (int i = 0; i < shared; i++)
        {
            ReadExact(header + ErofsFormat.XattrHeaderSize + (i * 4), id, $"inode {inode.Nid} shared xattr id");
            long at = ((long)Superblock.XattrBlockAddress << Superblock.BlockSizeBits) + ((long)BinaryPrimitives.ReadUInt32LittleEndian(id) * 4);
            ReadXattrEntry(inode, at, long.MaxValue, result);
        }

        long pos = header + inlineStart;
        long end = header + inode.XattrSize;
        while (pos < end)
        {
            pos += ReadXattrEntry(inode, pos, end, result);
        }

        return result;
    }

    private int ReadXattrEntry(ErofsInode inode, long at, long limit, List<ErofsXattr> result)
    {
        Span<byte> head = stackalloc byte[ErofsFormat.XattrEntryHeaderSize];
        ReadExact(at, head, $"inode {inode.Nid} xattr entry");
        int nameLength = head[0];
        int index = head[1];
        int valueSize = BinaryPrimitives.ReadUInt16LittleEndian(head[2..]);
        int size = (ErofsFormat.XattrEntryHeaderSize + nameLength + valueSize + 3) & ~3;
        if (at + size > limit)
        {
            throw new InvalidImageException($"inode {inode.Nid}: xattr entry of {size} bytes overruns the xattr area");
        }

        if ((index & 0x80) != 0)
        {
            throw new InvalidImageException($"inode {inode.Nid}: long xattr name prefixes are not supported");
        }

        if (!XattrNameIndex.TryGetPrefix(index, out string prefix))
        {
            throw new InvalidImageException($"inode {inode.Nid}: unknown xattr name index {index}");
        }

        byte[] body = new byte[nameLength + valueSize];
        ReadExact(at + ErofsFormat.XattrEntryHeaderSize, body, $"inode {inode.Nid} xattr body");
        string name = prefix + Encoding.UTF8.GetString(body, 0, nameLength);
        if (name.Length == 0)
        {
            throw new InvalidImageException($"inode {inode.Nid}: empty xattr name");
        }

        result.Add(new ErofsXattr(name, body[nameLength..]));
        return size;
    }

    private ErofsSuperblock ReadSuperblock()
    {
        Span<byte> sb = stackalloc byte[ErofsFormat.SuperSize];
        ReadExact(ErofsFormat.SuperOffset, sb, "superblock");
        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(sb[Super.Magic..]);
        if (magic != ErofsFormat.SuperMagic)
        {
            throw new InvalidImageException($"superblock: bad magic 0x{magic:x8} (expected 0x{ErofsFormat.SuperMagic:x8})");
        }

        int blkszbits = sb[Super.BlockSizeBits];
        if (blkszbits < 9 || blkszbits > 16)
        {
            throw new InvalidImageException($"superblock: unsupported block size 2^{blkszbits}");
        }

        uint incompat = BinaryPrimitives.ReadUInt32LittleEndian(sb[Super.FeatureIncompat..]);
        if ((incompat & ~ErofsFormat.SupportedIncompat) != 0)
        {
            throw new InvalidImageException($"superblock: unsupported incompatible features 0x{incompat & ~ErofsFormat.SupportedIncompat:x8}");
        }

        var result = new ErofsSuperblock(
            FeatureCompat: BinaryPrimitives.ReadUInt32LittleEndian(sb[Super.FeatureCompat..]),
            FeatureIncompat: incompat,
            BlockSizeBits: blkszbits,
            RootNid: BinaryPrimitives.ReadUInt16LittleEndian(sb[Super.RootNid..]),
            InodeCount: BinaryPrimitives.ReadUInt64LittleEndian(sb[Super.Inodes..]),
            BuildTime: BinaryPrimitives.ReadUInt64LittleEndian(sb[Super.BuildTime..]),
            BuildTimeNsec: BinaryPrimitives.ReadUInt32LittleEndian(sb[Super.BuildTimeNsec..]),
            Blocks: BinaryPrimitives.ReadUInt32LittleEndian(sb[Super.Blocks..]),
            MetaBlockAddress: BinaryPrimitives.ReadUInt32LittleEndian(sb[Super.MetaBlockAddress..]),
            XattrBlockAddress: BinaryPrimitives.ReadUInt32LittleEndian(sb[Super.XattrBlockAddress..]),
            ExtraDevices: BinaryPrimitives.ReadUInt16LittleEndian(sb[Super.ExtraDevices..]),
            DeviceTableSlotOffset: BinaryPrimitives.ReadUInt16LittleEndian(sb[Super.DeviceTableSlotOffset..]));
        if ((result.FeatureCompat & ErofsFormat.FeatureCompatSbChecksum) != 0)
        {
            // crc32c over the rest of the first block from the superblock on, checksum field zeroed.
            int length = (1 << blkszbits) - ErofsFormat.SuperOffset;
            if (length < ErofsFormat.SuperSize)
            {
                throw new InvalidImageException($"superblock: block size 2^{blkszbits} cannot hold a checksummed superblock");
            }

            byte[] block = new byte[length];
            ReadExact(ErofsFormat.SuperOffset, block, "superblock checksum area");
            uint stored = BinaryPrimitives.ReadUInt32LittleEndian(block.AsSpan(Super.Checksum));
            block.AsSpan(Super.Checksum, sizeof(uint)).Clear();
            uint computed = Crc32C.Compute(block);
            if (computed != stored)
            {
                throw new InvalidImageException($"superblock: checksum 0x{stored:x8} does not match 0x{computed:x8}");
            }
        }

        if (((long)result.MetaBlockAddress << blkszbits) >= _source.Length)
        {
            throw new InvalidImageException($"superblock: meta_blkaddr {result.MetaBlockAddress} is outside the image");
        }

        if (result.BuildTimeNsec >= 1_000_000_000)
        {
            throw new InvalidImageException($"superblock: build_time_nsec {result.BuildTimeNsec} out of range");
        }

        return result;
    }

    private List<ErofsDevice> ReadDevices()
    {
        var devices = new List<ErofsDevice>();
        int count = Superblock.ExtraDevices;
        if (count == 0)
        {
            return devices;
        }

        if (count > MaxDevices)
        {
            throw new InvalidImageException($"superblock: {count} extra devices is implausible");
        }

        long start = (long)Superblock.DeviceTableSlotOffset * ErofsFormat.DeviceSlotSize;
        if (start < ErofsFormat.SuperOffset + ErofsFormat.SuperSize)
        {
            throw new InvalidImageException($"superblock: device table at {start} overlaps the superblock");
        }

        Span<byte> slot = stackalloc byte[ErofsFormat.DeviceSlotSize];
        for (int i = 0; i < count; i++)
        {
            ReadExact(start + ((long)i * ErofsFormat.DeviceSlotSize), slot, $"device slot {i + 1}");
            ReadOnlySpan<byte> tag = slot.Slice(DeviceSlot.Tag, ErofsFormat.DeviceTagSize);
            int nul = tag.IndexOf((byte)0);
            string tagText = Encoding.UTF8.GetString(nul < 0 ? tag : tag[..nul]);
            devices.Add(new ErofsDevice(
                i + 1,
                tagText,
                BinaryPrimitives.ReadUInt32LittleEndian(slot[DeviceSlot.Blocks..]),
                BinaryPrimitives.ReadUInt32LittleEndian(slot[DeviceSlot.MappedBlockAddress..])));
        }

        return devices;
    }

    private List<RafsBlobInfo> ReadBlobTable()
    {
        Span<byte> ext = stackalloc byte[ErofsFormat.RafsExtSuperSize];
        ReadExact(ErofsFormat.RafsExtSuperOffset, ext, "RAFS extended superblock");
        ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(ext[RafsSuper.BlobTableOffset..]);
        uint size = BinaryPrimitives.ReadUInt32LittleEndian(ext[RafsSuper.BlobTableSize..]);
        var blobs = new List<RafsBlobInfo>();
        if (size == 0)
        {
            return blobs;
        }

        if (size % ErofsFormat.RafsBlobRecordSize != 0 || size / ErofsFormat.RafsBlobRecordSize > 256 || offset > (ulong)_source.Length || size > (ulong)_source.Length - offset)
        {
            throw new InvalidImageException($"RAFS extended superblock: invalid blob table offset {offset} / size {size}");
        }

        Span<byte> rec = stackalloc byte[ErofsFormat.RafsBlobRecordSize];
        for (int i = 0; i < size / ErofsFormat.RafsBlobRecordSize; i++)
        {
            ReadExact((long)offset + (i * ErofsFormat.RafsBlobRecordSize), rec, $"blob table record {i}");
            ReadOnlySpan<byte> id = rec.Slice(RafsBlob.BlobId, RafsBlob.BlobIdSize);
            int nul = id.IndexOf((byte)0);
            blobs.Add(new RafsBlobInfo(
                BlobId: Encoding.ASCII.GetString(nul < 0 ? id : id[..nul]),
                Index: BinaryPrimitives.ReadUInt32LittleEndian(rec[RafsBlob.Index..]),
                ChunkSize: BinaryPrimitives.ReadUInt32LittleEndian(rec[RafsBlob.ChunkSize..]),
                ChunkCount: BinaryPrimitives.ReadUInt32LittleEndian(rec[RafsBlob.ChunkCount..]),
                Compressor: ToCompressor(BinaryPrimitives.ReadUInt32LittleEndian(rec[RafsBlob.CompressionAlgorithm..]), $"blob {i} compression_algo"),
                // The record's digest_algo, not the superblock's digest flag, decides how this blob's chunks are
                // verified: it is per blob, and it is what nydus's storage layer checks chunks with (the flag is the
                // bootstrap-wide default nydus-image writes alongside, equal to it for the images it builds).
                Digester: RafsDigester.FromRafs(BinaryPrimitives.ReadUInt32LittleEndian(rec[RafsBlob.DigestAlgorithm..]), $"blob {i} digest_algo"),
                Features: BinaryPrimitives.ReadUInt32LittleEndian(rec[RafsBlob.Features..]),
                CompressedSize: BinaryPrimitives.ReadUInt64LittleEndian(rec[RafsBlob.CompressedSize..]),
                UncompressedSize: BinaryPrimitives.ReadUInt64LittleEndian(rec[RafsBlob.UncompressedSize..]),
                ChunkInfoCompressor: ToCompressor(BinaryPrimitives.ReadUInt32LittleEndian(rec[RafsBlob.ChunkInfoCompressor..]), $"blob {i} ci_compressor"),
                ChunkInfoOffset: BinaryPrimitives.ReadUInt64LittleEndian(rec[RafsBlob.ChunkInfoOffset..]),
                ChunkInfoCompressedSize: BinaryPrimitives.ReadUInt64LittleEndian(rec[RafsBlob.ChunkInfoCompressedSize..]),
                ChunkInfoUncompressedSize: BinaryPrimitives.ReadUInt64LittleEndian(rec[RafsBlob.ChunkInfoUncompressedSize..])));
        }

        return blobs;
    }

    internal static ChunkCompressor ToCompressor(uint value, string what) => value switch
    {
        0 => ChunkCompressor.None,
        1 => ChunkCompressor.Lz4Block,
        2 => ChunkCompressor.Gzip,
        3 => ChunkCompressor.Zstd,
        _ => throw new InvalidImageException($"{what}: unknown compression algorithm {value}"),
    };
}
