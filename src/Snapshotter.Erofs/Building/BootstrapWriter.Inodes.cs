using System.Buffers.Binary;
using System.Text;
using static Snapshotter.Erofs.Format.ErofsFieldOffsets;

namespace Snapshotter.Erofs.Building;

// Inodes: planning (order, link counts, where data goes) and writing each inode with its xattrs, inline data and chunk indexes.
internal static partial class BootstrapWriter
{
    // A chunk index stores the chunk-info index in 24 bits (advise + the high byte of device_id).
    private const uint MaxChunkInfoIndex = 0xFF_FFFF;

    /// <summary>Serializes the directories (their children's nids are known now) and writes every inode and its plain data.</summary>
    private static void WriteInodes(byte[] image, List<Plan> plans, long meta, int chunkSize, int[] deviceOfSlot)
    {
        var nidOf = new Dictionary<FsInode, ulong>(ReferenceEqualityComparer.Instance);
        foreach (Plan p in plans)
        {
            nidOf[p.Inode] = p.Nid;
        }

        foreach (Plan p in plans)
        {
            if (p.Inode.IsDirectory)
            {
                byte[] dir = SerializeDirectory(p, nidOf);
                if (p.InlineData is not null)
                {
                    p.InlineData = dir;
                }
                else
                {
                    p.PlainData = dir;
                }
            }

            WriteInode(image.AsSpan((int)(meta + p.Offset)), p, chunkSize, deviceOfSlot);
            if (p.PlainData is not null)
            {
                p.PlainData.CopyTo(image.AsSpan((int)((long)p.RawBlkaddr * BlockSize)));
            }
        }
    }

    private static void WriteInode(Span<byte> at, Plan p, int chunkSize, int[] deviceOfSlot)
    {
        FsInode inode = p.Inode;
        (int layout, uint iu, ulong size) = DataLayout(p, chunkSize);
        BinaryPrimitives.WriteUInt16LittleEndian(at[Inode.Format..], (ushort)(1 | (layout << 1)));
        BinaryPrimitives.WriteUInt16LittleEndian(at[Inode.XattrCount..], (ushort)(p.Xattrs.Length == 0 ? 0 : 1 + ((p.Xattrs.Length - ErofsFormat.XattrHeaderSize) / 4)));
        BinaryPrimitives.WriteUInt16LittleEndian(at[Inode.Mode..], (ushort)inode.Mode);
        BinaryPrimitives.WriteUInt64LittleEndian(at[Inode.Size..], size);
        BinaryPrimitives.WriteUInt32LittleEndian(at[Inode.Union..], iu);
        BinaryPrimitives.WriteUInt32LittleEndian(at[Inode.Ino..], (uint)p.Nid);
        BinaryPrimitives.WriteUInt32LittleEndian(at[Inode.Uid..], inode.Ownership.Uid);
        BinaryPrimitives.WriteUInt32LittleEndian(at[Inode.Gid..], inode.Ownership.Gid);
        BinaryPrimitives.WriteUInt64LittleEndian(at[Inode.Mtime..], (ulong)inode.Ownership.MtimeSeconds);
        BinaryPrimitives.WriteUInt32LittleEndian(at[Inode.MtimeNsec..], inode.Ownership.MtimeNanoseconds);
        BinaryPrimitives.WriteUInt32LittleEndian(at[Inode.Nlink..], p.LinkCount);
        int cursor = InodeSize;
        p.Xattrs.CopyTo(at[cursor..]);
        cursor += p.Xattrs.Length;
        if (p.InlineData is not null)
        {
            p.InlineData.CopyTo(at[cursor..]);
            cursor += p.InlineData.Length;
        }

        if (p.ChunkIndexCount > 0)
        {
            // Offsets are relative to a 32-byte aligned inode, so aligning the cursor aligns the array.
            WriteChunkIndexes(at[(int)Align(cursor, ErofsFormat.ChunkIndexSize)..], inode, deviceOfSlot);
        }
    }

    /// <summary>The inode's data layout, its <c>i_u</c> (chunk format, raw block address or rdev) and its size.</summary>
    private static (int Layout, uint Union, ulong Size) DataLayout(Plan p, int chunkSize)
    {
        if (p.ChunkIndexCount > 0)
        {
            uint chunkFormat = ErofsFormat.ChunkFormatIndexes | (uint)(System.Numerics.BitOperations.Log2((uint)chunkSize) - ErofsFormat.BlockBits);
            return (ErofsFormat.LayoutChunkBased, chunkFormat, p.Inode.Size);
        }

        if (p.InlineData is not null)
        {
            return (ErofsFormat.LayoutFlatInline, 0, (ulong)p.InlineData.Length);
        }

        if (p.PlainData is not null)
        {
            return (ErofsFormat.LayoutFlatPlain, p.RawBlkaddr, p.DataSize);
        }

        bool isDevice = (p.Inode.Mode & ErofsFormat.ModeTypeMask) is ErofsFormat.ModeCharDevice or ErofsFormat.ModeBlockDevice;
        return (ErofsFormat.LayoutFlatPlain, isDevice ? p.Inode.Rdev : 0, 0);
    }

    private static void WriteChunkIndexes(Span<byte> at, FsInode inode, int[] deviceOfSlot)
    {
        int cursor = 0;
        foreach (ChunkRef chunk in inode.Chunks!.SelectMany(segment => segment))
        {
            int device = deviceOfSlot[chunk.BlobSlot];
            if (device < 0 || chunk.ChunkInfoIndex > MaxChunkInfoIndex)
            {
                throw new InvalidOperationException("chunk points to a blob without chunks or beyond the 24-bit chunk-info index");
            }

            Span<byte> entry = at.Slice(cursor, ErofsFormat.ChunkIndexSize);

            // Nydus packing: low byte of device_id = blob index + 1 (the kernel masks the rest away),
            // high byte + advise = 24-bit chunk-info index; blkaddr = uncompressed offset in blocks.
            BinaryPrimitives.WriteUInt16LittleEndian(entry[ChunkIndex.Advise..], (ushort)(chunk.ChunkInfoIndex & 0xFFFF));
            BinaryPrimitives.WriteUInt16LittleEndian(entry[ChunkIndex.DeviceId..], (ushort)((device + 1) | ((chunk.ChunkInfoIndex >> 16) << 8)));
            BinaryPrimitives.WriteUInt32LittleEndian(entry[ChunkIndex.BlockAddress..], checked((uint)(chunk.UncompressedOffset / BlockSize)));
            cursor += ErofsFormat.ChunkIndexSize;
        }
    }

    /// <summary>Every distinct inode once, breadth first from the root (hard links counted, not repeated), with its data planned.</summary>
    private static List<Plan> PlanInodes(FsInode root)
    {
        var plans = new List<Plan>();
        var seen = new Dictionary<FsInode, Plan>(ReferenceEqualityComparer.Instance);
        var queue = new Queue<Plan>();
        Plan rootPlan = NewPlan(root, null);
        seen[root] = rootPlan;
        plans.Add(rootPlan);
        queue.Enqueue(rootPlan);
        while (queue.Count > 0)
        {
            Plan dir = queue.Dequeue();
            foreach ((_, FsEntry entry) in dir.SortedChildren!)
            {
                if (seen.TryGetValue(entry.Inode, out Plan? existing))
                {
                    existing.LinkCount++;
                    continue;
                }

                Plan child = NewPlan(entry.Inode, dir);
                seen[entry.Inode] = child;
                plans.Add(child);
                if (entry.Inode.IsDirectory)
                {
                    queue.Enqueue(child);
                }
            }
        }

        foreach (Plan p in plans)
        {
            PlanData(p);
        }

        return plans;
    }

    private static Plan NewPlan(FsInode inode, Plan? parent)
    {
        var plan = new Plan(inode) { Parent = parent, LinkCount = 1, Xattrs = SerializeXattrs(inode) };
        if (inode.IsDirectory)
        {
            plan.SortedChildren = inode.Children!
                .Select(kv => (Name: Encoding.UTF8.GetBytes(kv.Key), Entry: kv.Value))
                .OrderBy(kv => kv.Name, ByteComparer.Instance)
                .ToList();
            plan.LinkCount = 2 + (uint)plan.SortedChildren.Count(c => c.Entry.Inode.IsDirectory);
        }

        return plan;
    }

    /// <summary>Directories and symlinks go inline after the inode when they fit its block, in plain blocks otherwise.</summary>
    private static void PlanData(Plan p)
    {
        FsInode inode = p.Inode;
        int inlineLimit = BlockSize - InodeSize - p.Xattrs.Length;
        if (inode.IsDirectory)
        {
            int size = DirectorySize(p);
            p.DataSize = (ulong)size;
            if (size <= inlineLimit)
            {
                p.InlineData = new byte[size];
            }
            else
            {
                p.PlainData = new byte[size];
            }
        }
        else if ((inode.Mode & ErofsFormat.ModeTypeMask) == ErofsFormat.ModeSymlink)
        {
            byte[] target = inode.SymlinkTarget!;
            p.DataSize = (ulong)target.Length;
            if (target.Length <= inlineLimit)
            {
                p.InlineData = target;
            }
            else
            {
                p.PlainData = target;
            }
        }
        else if ((inode.Mode & ErofsFormat.ModeTypeMask) == ErofsFormat.ModeRegular && inode.Size > 0)
        {
            p.ChunkIndexCount = inode.ChunkCount;
        }
    }
}
