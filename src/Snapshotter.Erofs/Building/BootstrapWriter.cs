using System.Buffers.Binary;
using System.Text;
using Snapshotter.Erofs.Format;

namespace Snapshotter.Erofs.Building;

/// <summary>
/// Serializes the merged tree as a RAFS v6 compatible EROFS bootstrap: superblock, RAFS extended
/// superblock, device table (tags = blob ids), blob table, extended inodes with inline xattrs,
/// chunk-based regular files whose chunk indexes point into the data blobs, and directories and
/// symlinks tail-packed after their inode when they fit, in plain blocks otherwise.
/// </summary>
internal static class BootstrapWriter
{
    private const int BlockSize = ErofsFormat.BlockSize;
    private const int InodeSize = ErofsFormat.ExtendedInodeSize;

    public static byte[] Build(FsInode root, IReadOnlyList<DataBlobResult> blobSlots, ChunkCompressor compressor, int chunkSize)
    {
        // Device ids follow the order of the blobs that hold chunks; empty blobs are dropped.
        var deviceOfSlot = new int[blobSlots.Count];
        var devices = new List<DataBlobResult>();
        for (int i = 0; i < blobSlots.Count; i++)
        {
            deviceOfSlot[i] = -1;
            if (blobSlots[i].ChunkCount > 0)
            {
                deviceOfSlot[i] = devices.Count;
                devices.Add(blobSlots[i]);
            }
        }

        if (devices.Count > 254)
        {
            throw new InvalidImageException($"an image can reference at most 254 data blobs, this one needs {devices.Count}");
        }

        List<Plan> plans = PlanInodes(root);

        // Header area: superblock, extended superblock, device table, then the 4 KiB aligned blob table.
        long deviceTableEnd = ErofsFormat.RafsDeviceTableOffset + ((long)devices.Count * ErofsFormat.DeviceSlotSize);
        long blobTableOffset = Align(deviceTableEnd, BlockSize);
        long blobTableSize = (long)devices.Count * ErofsFormat.RafsBlobRecordSize;
        uint metaBlkaddr = (uint)(Align(blobTableOffset + blobTableSize, BlockSize) / BlockSize);

        // Assign nids. Slot 0 stays unused so no inode gets number 0 (some tools treat ino 0 as empty).
        long pos = 32;
        foreach (Plan p in plans)
        {
            pos = Align(pos, 32);
            int head = InodeSize + p.Xattrs.Length;
            int whole = head + (p.InlineData?.Length ?? 0);
            int needed = p.InlineData is not null ? whole : head;
            if ((pos % BlockSize) + needed > BlockSize)
            {
                pos = Align(pos, BlockSize);
            }

            p.Nid = (ulong)(pos >> ErofsFormat.InodeSlotBits);
            p.Offset = pos;
            pos += whole;
            if (p.ChunkIndexCount > 0)
            {
                pos = Align(pos, ErofsFormat.ChunkIndexSize) + ((long)p.ChunkIndexCount * ErofsFormat.ChunkIndexSize);
            }
        }

        if (plans[0].Nid > ushort.MaxValue)
        {
            throw new InvalidImageException("root nid does not fit the superblock");
        }

        long metaBytes = Align(pos, BlockSize);
        long dataBlock = metaBlkaddr + (metaBytes / BlockSize);
        foreach (Plan p in plans)
        {
            if (p.PlainData is not null)
            {
                p.RawBlkaddr = (uint)dataBlock;
                dataBlock += Align(p.PlainData.Length, BlockSize) / BlockSize;
            }
        }

        long totalBlocks = dataBlock;
        if (totalBlocks > uint.MaxValue)
        {
            throw new InvalidImageException("bootstrap exceeds 2^32 blocks");
        }

        byte[] image = new byte[totalBlocks * BlockSize];
        var nidOf = new Dictionary<FsInode, ulong>(ReferenceEqualityComparer.Instance);
        foreach (Plan p in plans)
        {
            nidOf[p.Inode] = p.Nid;
        }

        long meta = (long)metaBlkaddr * BlockSize;
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

            WriteInode(image.AsSpan((int)(meta + p.Offset)), p, compressor, chunkSize, deviceOfSlot);
            if (p.PlainData is not null)
            {
                p.PlainData.CopyTo(image.AsSpan((int)((long)p.RawBlkaddr * BlockSize)));
            }
        }

        // Device table: tag = blob id, blocks = uncompressed size in blocks, mapped like Nydus (512 KiB aligned after the bootstrap).
        long mapped = Align(totalBlocks, ErofsFormat.DeviceMappedAlignBlocks);
        for (int i = 0; i < devices.Count; i++)
        {
            Span<byte> slot = image.AsSpan(ErofsFormat.RafsDeviceTableOffset + (i * ErofsFormat.DeviceSlotSize), ErofsFormat.DeviceSlotSize);
            Encoding.ASCII.GetBytes(devices[i].BlobId, slot[..ErofsFormat.DeviceTagSize]);
            uint blocks = checked((uint)(devices[i].UncompressedSize / BlockSize));
            BinaryPrimitives.WriteUInt32LittleEndian(slot[64..], blocks);
            BinaryPrimitives.WriteUInt32LittleEndian(slot[68..], checked((uint)mapped));
            mapped = Align(mapped + blocks, ErofsFormat.DeviceMappedAlignBlocks);
        }

        for (int i = 0; i < devices.Count; i++)
        {
            WriteBlobRecord(image.AsSpan((int)blobTableOffset + (i * ErofsFormat.RafsBlobRecordSize), ErofsFormat.RafsBlobRecordSize), devices[i], (uint)i, compressor, chunkSize);
        }

        WriteSuperblock(image, plans, devices.Count, metaBlkaddr, (uint)totalBlocks);
        WriteExtendedSuperblock(image, plans, compressor, chunkSize, blobTableOffset, blobTableSize);

        // Last: the checksum covers the extended superblock, device table and everything else in block 0.
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(ErofsFormat.SuperOffset + 4), Crc32C.Compute(image.AsSpan(ErofsFormat.SuperOffset, BlockSize - ErofsFormat.SuperOffset)));
        return image;
    }

    private static void WriteSuperblock(byte[] image, List<Plan> plans, int deviceCount, uint metaBlkaddr, uint blocks)
    {
        Span<byte> sb = image.AsSpan(ErofsFormat.SuperOffset, ErofsFormat.SuperSize);
        BinaryPrimitives.WriteUInt32LittleEndian(sb, ErofsFormat.SuperMagic);
        BinaryPrimitives.WriteUInt32LittleEndian(sb[8..], ErofsFormat.FeatureCompatRafsV6 | ErofsFormat.FeatureCompatSbChecksum);
        sb[12] = ErofsFormat.BlockBits;
        BinaryPrimitives.WriteUInt16LittleEndian(sb[14..], (ushort)plans[0].Nid);
        BinaryPrimitives.WriteUInt64LittleEndian(sb[16..], (ulong)plans.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(sb[36..], blocks);
        BinaryPrimitives.WriteUInt32LittleEndian(sb[40..], metaBlkaddr);
        uint incompat = ErofsFormat.FeatureIncompatChunkedFile | (deviceCount > 0 ? ErofsFormat.FeatureIncompatDeviceTable : 0);
        BinaryPrimitives.WriteUInt32LittleEndian(sb[80..], incompat);
        BinaryPrimitives.WriteUInt16LittleEndian(sb[86..], (ushort)deviceCount);
        BinaryPrimitives.WriteUInt16LittleEndian(sb[88..], ErofsFormat.RafsDeviceTableOffset / ErofsFormat.DeviceSlotSize);
    }

    private static void WriteExtendedSuperblock(byte[] image, List<Plan> plans, ChunkCompressor compressor, int chunkSize, long blobTableOffset, long blobTableSize)
    {
        Span<byte> ext = image.AsSpan(ErofsFormat.RafsExtSuperOffset, ErofsFormat.RafsExtSuperSize);

        // RafsSuperFlags: compression, digest, explicit uid/gid (0x10), has xattr (0x20).
        ulong flags = ErofsFormat.RafsCompressionFlag(compressor) | ErofsFormat.RafsFlagDigestSha256 | 0x10;
        if (plans.Any(p => p.Xattrs.Length > 0))
        {
            flags |= 0x20;
        }

        BinaryPrimitives.WriteUInt64LittleEndian(ext, flags);
        BinaryPrimitives.WriteUInt64LittleEndian(ext[8..], (ulong)blobTableOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(ext[16..], (uint)blobTableSize);
        BinaryPrimitives.WriteUInt32LittleEndian(ext[20..], (uint)chunkSize);
    }

    private static void WriteBlobRecord(Span<byte> rec, DataBlobResult blob, uint index, ChunkCompressor compressor, int chunkSize)
    {
        Encoding.ASCII.GetBytes(blob.BlobId, rec[..64]);
        BinaryPrimitives.WriteUInt32LittleEndian(rec[64..], index);
        BinaryPrimitives.WriteUInt32LittleEndian(rec[68..], (uint)chunkSize);
        BinaryPrimitives.WriteUInt32LittleEndian(rec[72..], (uint)blob.ChunkCount);
        BinaryPrimitives.WriteUInt32LittleEndian(rec[76..], (uint)compressor);
        BinaryPrimitives.WriteUInt32LittleEndian(rec[80..], ErofsFormat.RafsDigestSha256);
        BinaryPrimitives.WriteUInt32LittleEndian(rec[84..], BlobLayout.FeatureAligned | BlobLayout.FeatureChunkInfoV2 | BlobLayout.FeatureHasToc);
        BinaryPrimitives.WriteUInt64LittleEndian(rec[88..], blob.CompressedSize);
        BinaryPrimitives.WriteUInt64LittleEndian(rec[96..], blob.UncompressedSize);
        BinaryPrimitives.WriteUInt32LittleEndian(rec[104..], 3 * BlobLayout.TocEntrySize);
        BinaryPrimitives.WriteUInt32LittleEndian(rec[108..], (uint)blob.ChunkInfoCompressor);
        BinaryPrimitives.WriteUInt64LittleEndian(rec[112..], blob.ChunkInfoOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(rec[120..], blob.ChunkInfoCompressedSize);
        BinaryPrimitives.WriteUInt64LittleEndian(rec[128..], blob.ChunkInfoUncompressedSize);
    }

    private static void WriteInode(Span<byte> at, Plan p, ChunkCompressor compressor, int chunkSize, int[] deviceOfSlot)
    {
        FsInode inode = p.Inode;
        int layout;
        uint iu = 0;
        ulong size;
        if (p.ChunkIndexCount > 0)
        {
            layout = ErofsFormat.LayoutChunkBased;
            iu = ErofsFormat.ChunkFormatIndexes | (uint)(System.Numerics.BitOperations.Log2((uint)chunkSize) - ErofsFormat.BlockBits);
            size = inode.Size;
        }
        else if (p.InlineData is not null)
        {
            layout = ErofsFormat.LayoutFlatInline;
            size = (ulong)p.InlineData.Length;
        }
        else if (p.PlainData is not null)
        {
            layout = ErofsFormat.LayoutFlatPlain;
            iu = p.RawBlkaddr;
            size = p.DataSize;
        }
        else
        {
            layout = ErofsFormat.LayoutFlatPlain;
            size = 0;
            if ((inode.Mode & 0xF000) is 0x2000 or 0x6000)
            {
                iu = inode.Rdev;
            }
        }

        BinaryPrimitives.WriteUInt16LittleEndian(at, (ushort)(1 | (layout << 1)));
        BinaryPrimitives.WriteUInt16LittleEndian(at[2..], (ushort)(p.Xattrs.Length == 0 ? 0 : 1 + ((p.Xattrs.Length - ErofsFormat.XattrHeaderSize) / 4)));
        BinaryPrimitives.WriteUInt16LittleEndian(at[4..], (ushort)inode.Mode);
        BinaryPrimitives.WriteUInt64LittleEndian(at[8..], size);
        BinaryPrimitives.WriteUInt32LittleEndian(at[16..], iu);
        BinaryPrimitives.WriteUInt32LittleEndian(at[20..], (uint)p.Nid);
        BinaryPrimitives.WriteUInt32LittleEndian(at[24..], inode.Uid);
        BinaryPrimitives.WriteUInt32LittleEndian(at[28..], inode.Gid);
        BinaryPrimitives.WriteUInt64LittleEndian(at[32..], (ulong)inode.MtimeSeconds);
        BinaryPrimitives.WriteUInt32LittleEndian(at[40..], inode.MtimeNanoseconds);
        BinaryPrimitives.WriteUInt32LittleEndian(at[44..], p.LinkCount);
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
            cursor = (int)Align(cursor, ErofsFormat.ChunkIndexSize);
            foreach (ChunkRef chunk in inode.Chunks!.SelectMany(segment => segment))
            {
                int device = deviceOfSlot[chunk.BlobSlot];
                if (device < 0 || chunk.ChunkInfoIndex > 0xFF_FFFF)
                {
                    throw new InvalidOperationException("chunk points to a blob without chunks or beyond the 24-bit chunk-info index");
                }

                Span<byte> entry = at.Slice(cursor, ErofsFormat.ChunkIndexSize);

                // Nydus packing: low byte of device_id = blob index + 1 (the kernel masks the rest away),
                // high byte + advise = 24-bit chunk-info index; blkaddr = uncompressed offset in blocks.
                BinaryPrimitives.WriteUInt16LittleEndian(entry, (ushort)(chunk.ChunkInfoIndex & 0xFFFF));
                BinaryPrimitives.WriteUInt16LittleEndian(entry[2..], (ushort)((device + 1) | ((chunk.ChunkInfoIndex >> 16) << 8)));
                BinaryPrimitives.WriteUInt32LittleEndian(entry[4..], checked((uint)(chunk.UncompressedOffset / BlockSize)));
                cursor += ErofsFormat.ChunkIndexSize;
            }
        }
    }

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
            foreach ((byte[] name, FsEntry entry) in dir.SortedChildren!)
            {
                _ = name;
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
        else if ((inode.Mode & 0xF000) == 0xA000)
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
        else if ((inode.Mode & 0xF000) == 0x8000 && inode.Size > 0)
        {
            p.ChunkIndexCount = inode.ChunkCount;
        }
    }

    private static List<(byte[] Name, FsInode Inode)> DirectoryEntries(Plan p)
    {
        var entries = new List<(byte[] Name, FsInode Inode)>(p.SortedChildren!.Count + 2)
        {
            ("."u8.ToArray(), p.Inode),
            (".."u8.ToArray(), (p.Parent ?? p).Inode),
        };
        foreach ((byte[] name, FsEntry entry) in p.SortedChildren)
        {
            entries.Add((name, entry.Inode));
        }

        entries.Sort((a, b) => ByteComparer.Instance.Compare(a.Name, b.Name));
        return entries;
    }

    private static int DirectorySize(Plan p)
    {
        int total = 0, used = 0;
        foreach ((byte[] name, _) in DirectoryEntries(p))
        {
            int need = ErofsFormat.DirentSize + name.Length;
            if (used + need > BlockSize)
            {
                total += BlockSize;
                used = 0;
            }

            used += need;
        }

        return total + used;
    }

    private static byte[] SerializeDirectory(Plan p, Dictionary<FsInode, ulong> nidOf)
    {
        List<(byte[] Name, FsInode Inode)> entries = DirectoryEntries(p);
        byte[] data = new byte[(int)p.DataSize];
        int blockStart = 0;
        int i = 0;
        while (i < entries.Count)
        {
            int count = 0, used = 0;
            while (i + count < entries.Count && used + ErofsFormat.DirentSize + entries[i + count].Name.Length <= BlockSize)
            {
                used += ErofsFormat.DirentSize + entries[i + count].Name.Length;
                count++;
            }

            int nameOff = count * ErofsFormat.DirentSize;
            for (int k = 0; k < count; k++)
            {
                (byte[] name, FsInode child) = entries[i + k];
                Span<byte> de = data.AsSpan(blockStart + (k * ErofsFormat.DirentSize), ErofsFormat.DirentSize);
                BinaryPrimitives.WriteUInt64LittleEndian(de, nidOf[child]);
                BinaryPrimitives.WriteUInt16LittleEndian(de[8..], (ushort)nameOff);
                de[10] = ErofsFormat.FileTypeFromMode(child.Mode);
                name.CopyTo(data.AsSpan(blockStart + nameOff));
                nameOff += name.Length;
            }

            i += count;
            blockStart += BlockSize;
        }

        return data;
    }

    private static byte[] SerializeXattrs(FsInode inode)
    {
        if (inode.Xattrs is null || inode.Xattrs.Count == 0)
        {
            return [];
        }

        using var buffer = new MemoryStream();
        buffer.Write(new byte[ErofsFormat.XattrHeaderSize]);
        foreach ((string name, byte[] value) in inode.Xattrs)
        {
            (byte index, string suffix) = SplitXattrName(name);
            byte[] suffixBytes = Encoding.UTF8.GetBytes(suffix);
            if (suffixBytes.Length > 255 || value.Length > ushort.MaxValue)
            {
                throw new InvalidImageException($"xattr '{name}' is too large for EROFS");
            }

            buffer.WriteByte((byte)suffixBytes.Length);
            buffer.WriteByte(index);
            buffer.WriteByte((byte)value.Length);
            buffer.WriteByte((byte)(value.Length >> 8));
            buffer.Write(suffixBytes);
            buffer.Write(value);
            while (buffer.Length % 4 != 0)
            {
                buffer.WriteByte(0);
            }
        }

        if (buffer.Length > 2048)
        {
            throw new InvalidImageException($"xattrs of one inode take {buffer.Length} bytes; at most 2048 are supported");
        }

        return buffer.ToArray();
    }

    private static (byte Index, string Suffix) SplitXattrName(string name)
    {
        if (name == "system.posix_acl_access")
        {
            return (2, string.Empty);
        }

        if (name == "system.posix_acl_default")
        {
            return (3, string.Empty);
        }

        foreach ((string prefix, byte index) in (ReadOnlySpan<(string, byte)>)[("user.", 1), ("trusted.", 4), ("security.", 6)])
        {
            if (name.StartsWith(prefix, StringComparison.Ordinal) && name.Length > prefix.Length)
            {
                return (index, name[prefix.Length..]);
            }
        }

        throw new InvalidImageException($"xattr '{name}' has a namespace EROFS cannot store");
    }

    private static long Align(long value, long alignment) => (value + alignment - 1) / alignment * alignment;

    private sealed class Plan(FsInode inode)
    {
        public FsInode Inode { get; } = inode;

        public Plan? Parent { get; init; }

        public List<(byte[] Name, FsEntry Entry)>? SortedChildren { get; set; }

        public uint LinkCount { get; set; }

        public byte[] Xattrs { get; init; } = [];

        public byte[]? InlineData { get; set; }

        public byte[]? PlainData { get; set; }

        public ulong DataSize { get; set; }

        public int ChunkIndexCount { get; set; }

        public ulong Nid { get; set; }

        public long Offset { get; set; }

        public uint RawBlkaddr { get; set; }
    }
}
