using System.Buffers.Binary;
using static Snapshotter.Erofs.Format.ErofsFieldOffsets;

namespace Snapshotter.Erofs.Reading;

public sealed partial class ErofsImage
{
    /// <summary>
    /// Reads file contents at <paramref name="offset"/>. Chunks on extra devices are read from
    /// <paramref name="devices"/> (index 0 = device id 1), each the device's uncompressed address space.
    /// Returns the number of bytes read (short only at end of file).
    /// </summary>
    internal int ReadFile(ErofsInode inode, long offset, Span<byte> destination, IReadOnlyList<IRandomAccessSource>? devices = null)
    {
        if (offset < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(offset));
        }

        if ((ulong)offset >= inode.Size)
        {
            return 0;
        }

        int total = (int)Math.Min((ulong)destination.Length, inode.Size - (ulong)offset);
        int blockSize = 1 << Superblock.BlockSizeBits;
        int done = 0;
        while (done < total)
        {
            long pos = offset + done;
            Span<byte> dst = destination[done..total];
            int n;
            switch (inode.DataLayout)
            {
                case ErofsFormat.LayoutFlatPlain:
                    n = Math.Min(dst.Length, blockSize - (int)(pos % blockSize));
                    ReadFlat(inode, ((long)inode.RawU << Superblock.BlockSizeBits) + pos, dst[..n], devices);
                    break;
                case ErofsFormat.LayoutFlatInline:
                    n = ReadInline(inode, pos, dst, devices);
                    break;
                case ErofsFormat.LayoutChunkBased:
                    n = ReadChunked(inode, pos, dst, devices);
                    break;
                default:
                    throw new InvalidImageException($"inode {inode.Nid}: unsupported data layout {inode.DataLayout}");
            }

            done += n;
        }

        return total;
    }

    /// <summary>The chunk table of a chunk-based inode, in file order.</summary>
    internal IReadOnlyList<ErofsChunkIndex> ReadChunkIndexes(ErofsInode inode)
    {
        if (inode.DataLayout != ErofsFormat.LayoutChunkBased)
        {
            return [];
        }

        (int chunkBits, bool indexes, long count, long arrayOffset) = ChunkGeometry(inode);
        var result = new List<ErofsChunkIndex>((int)Math.Min(count, 1 << 16));
        for (long i = 0; i < count; i++)
        {
            result.Add(ReadChunkIndex(inode, indexes, arrayOffset, i));
        }

        _ = chunkBits;
        return result;
    }

    /// <summary>The chunk size of a chunk-based inode in bytes.</summary>
    internal long ChunkSize(ErofsInode inode) => 1L << ChunkGeometry(inode).ChunkBits;

    private void ReadData(ErofsInode inode, long offset, Span<byte> destination)
    {
        if (ReadFile(inode, offset, destination) != destination.Length)
        {
            throw new InvalidImageException($"inode {inode.Nid}: data shorter than expected");
        }
    }

    private (int ChunkBits, bool Indexes, long Count, long ArrayOffset) ChunkGeometry(ErofsInode inode)
    {
        ushort format = (ushort)inode.RawU;
        if ((format & ~(ErofsFormat.ChunkFormatBlkBitsMask | ErofsFormat.ChunkFormatIndexes)) != 0 || (inode.RawU >> 16) != 0)
        {
            throw new InvalidImageException($"inode {inode.Nid}: invalid chunk format 0x{inode.RawU:x8}");
        }

        int chunkBits = Superblock.BlockSizeBits + (format & ErofsFormat.ChunkFormatBlkBitsMask);
        if (chunkBits > 40)
        {
            throw new InvalidImageException($"inode {inode.Nid}: chunk size 2^{chunkBits} is implausible");
        }

        bool indexes = (format & ErofsFormat.ChunkFormatIndexes) != 0;
        int unit = indexes ? ErofsFormat.ChunkIndexSize : 4;
        long count = (long)((inode.Size + (1UL << chunkBits) - 1) >> chunkBits);
        long start = inode.Offset + inode.InodeSize + inode.XattrSize;
        long arrayOffset = (start + unit - 1) / unit * unit;
        if (count > (_source.Length - arrayOffset) / unit)
        {
            throw new InvalidImageException($"inode {inode.Nid}: chunk table of {count} entries runs past the end of the image");
        }

        return (chunkBits, indexes, count, arrayOffset);
    }

    private ErofsChunkIndex ReadChunkIndex(ErofsInode inode, bool indexes, long arrayOffset, long index)
    {
        if (indexes)
        {
            Span<byte> raw = stackalloc byte[ErofsFormat.ChunkIndexSize];
            ReadExact(arrayOffset + (index * ErofsFormat.ChunkIndexSize), raw, $"inode {inode.Nid} chunk index {index}");
            ushort advise = BinaryPrimitives.ReadUInt16LittleEndian(raw[ChunkIndex.Advise..]);
            ushort deviceId = BinaryPrimitives.ReadUInt16LittleEndian(raw[ChunkIndex.DeviceId..]);
            uint blkaddr = BinaryPrimitives.ReadUInt32LittleEndian(raw[ChunkIndex.BlockAddress..]);
            uint ciIndex = ((uint)(deviceId >> 8) << 16) | advise;
            return new ErofsChunkIndex(deviceId & _deviceIdMask, blkaddr, ciIndex);
        }

        Span<byte> entry = stackalloc byte[4];
        ReadExact(arrayOffset + (index * 4), entry, $"inode {inode.Nid} block map entry {index}");
        return new ErofsChunkIndex(0, BinaryPrimitives.ReadUInt32LittleEndian(entry), 0);
    }

    private int ReadChunked(ErofsInode inode, long pos, Span<byte> destination, IReadOnlyList<IRandomAccessSource>? devices)
    {
        (int chunkBits, bool indexes, long count, long arrayOffset) = ChunkGeometry(inode);
        long chunk = pos >> chunkBits;
        if (chunk >= count)
        {
            throw new InvalidImageException($"inode {inode.Nid}: position {pos} beyond its chunk table");
        }

        long inChunk = pos & ((1L << chunkBits) - 1);
        int n = (int)Math.Min(destination.Length, (1L << chunkBits) - inChunk);
        ErofsChunkIndex index = ReadChunkIndex(inode, indexes, arrayOffset, chunk);
        if (index.IsHole)
        {
            destination[..n].Clear();
            return n;
        }

        long physical = ((long)index.BlockAddress << Superblock.BlockSizeBits) + inChunk;
        if (index.DeviceId == 0)
        {
            ReadFlat(inode, physical, destination[..n], devices);
        }
        else
        {
            if (index.DeviceId > Devices.Count)
            {
                throw new InvalidImageException($"inode {inode.Nid}: chunk {chunk} names device {index.DeviceId} but the image has {Devices.Count}");
            }

            ReadDevice(inode, index.DeviceId, physical, destination[..n], devices);
        }

        return n;
    }

    private int ReadInline(ErofsInode inode, long pos, Span<byte> destination, IReadOnlyList<IRandomAccessSource>? devices)
    {
        int blockSize = 1 << Superblock.BlockSizeBits;
        long tailStart = (long)((inode.Size - 1) / (ulong)blockSize * (ulong)blockSize);
        if (pos < tailStart)
        {
            int n = (int)Math.Min(destination.Length, Math.Min(blockSize - (pos % blockSize), tailStart - pos));
            ReadFlat(inode, ((long)inode.RawU << Superblock.BlockSizeBits) + pos, destination[..n], devices);
            return n;
        }

        long inlineStart = inode.Offset + inode.InodeSize + inode.XattrSize;
        long tailLength = (long)inode.Size - tailStart;
        if ((inlineStart % blockSize) + tailLength > blockSize)
        {
            throw new InvalidImageException($"inode {inode.Nid}: inline data crosses a block boundary");
        }

        int count = (int)Math.Min(destination.Length, tailLength - (pos - tailStart));
        ReadExact(inlineStart + (pos - tailStart), destination[..count], $"inode {inode.Nid} inline data");
        return count;
    }

    // The primary device's flat address space: the bootstrap, plus extra devices mapped at their
    // mapped_blkaddr (mkfs.erofs --blobdev without chunk indexes), the way erofs_map_dev does it.
    private void ReadFlat(ErofsInode inode, long physical, Span<byte> destination, IReadOnlyList<IRandomAccessSource>? devices)
    {
        foreach (ErofsDevice device in Devices)
        {
            if (device.MappedBlockAddress == 0)
            {
                continue;
            }

            long start = (long)device.MappedBlockAddress << Superblock.BlockSizeBits;
            long length = (long)device.Blocks << Superblock.BlockSizeBits;
            if (physical >= start && physical < start + length)
            {
                ReadDevice(inode, device.DeviceId, physical - start, destination, devices);
                return;
            }
        }

        ReadExact(physical, destination, $"inode {inode.Nid} data");
    }

    private static void ReadDevice(ErofsInode inode, int deviceId, long offset, Span<byte> destination, IReadOnlyList<IRandomAccessSource>? devices)
    {
        if (devices is null || deviceId - 1 >= devices.Count)
        {
            throw new InvalidImageException($"inode {inode.Nid}: data lives on device {deviceId}, which was not provided");
        }

        IRandomAccessSource device = devices[deviceId - 1];
        if (offset < 0 || offset > device.Length - destination.Length || device.ReadAt(offset, destination) != destination.Length)
        {
            throw new InvalidImageException($"inode {inode.Nid}: bytes [{offset}, +{destination.Length}) are outside device {deviceId} ({device.Length} bytes)");
        }
    }
}
