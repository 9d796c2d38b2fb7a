namespace Snapshotter.Erofs.Building;

/// <summary>
/// Serializes the merged tree as a RAFS v6 compatible EROFS bootstrap: superblock, RAFS extended
/// superblock, device table (tags = blob ids), blob table, extended inodes with inline xattrs,
/// chunk-based regular files whose chunk indexes point into the data blobs, and directories and
/// symlinks tail-packed after their inode when they fit, in plain blocks otherwise.
/// </summary>
internal static partial class BootstrapWriter
{
    private const int BlockSize = ErofsFormat.BlockSize;
    private const int InodeSize = ErofsFormat.ExtendedInodeSize;

    // The device table has 8-bit device ids, 0 being the bootstrap itself (and 255 reserved by Nydus).
    private const int MaxDevices = 254;

    // Inodes are 32-byte slots from the start of the meta area; slot 0 stays unused so no inode gets number 0
    // (some tools treat ino 0 as empty).
    private const int FirstInodeOffset = 1 << ErofsFormat.InodeSlotBits;

    public static byte[] Build(FsInode root, IReadOnlyList<DataBlobResult> blobSlots, ChunkCompressor compressor, ChunkDigester digester, int chunkSize)
    {
        List<DataBlobResult> devices = SelectDevices(blobSlots, out int[] deviceOfSlot);
        List<Plan> plans = PlanInodes(root);

        // Header area: superblock, extended superblock, device table, then the 4 KiB aligned blob table.
        long deviceTableEnd = ErofsFormat.RafsDeviceTableOffset + ((long)devices.Count * ErofsFormat.DeviceSlotSize);
        long blobTableOffset = Align(deviceTableEnd, BlockSize);
        long blobTableSize = (long)devices.Count * ErofsFormat.RafsBlobRecordSize;
        uint metaBlkaddr = (uint)(Align(blobTableOffset + blobTableSize, BlockSize) / BlockSize);

        long metaBytes = AssignNids(plans);
        long totalBlocks = AssignDataBlocks(plans, metaBlkaddr + (metaBytes / BlockSize));
        if (totalBlocks > uint.MaxValue)
        {
            throw new InvalidImageException("bootstrap exceeds 2^32 blocks");
        }

        byte[] image = new byte[totalBlocks * BlockSize];
        WriteInodes(image, plans, (long)metaBlkaddr * BlockSize, chunkSize, deviceOfSlot);
        WriteDeviceTable(image, devices, totalBlocks);
        for (int i = 0; i < devices.Count; i++)
        {
            WriteBlobRecord(image.AsSpan((int)blobTableOffset + (i * ErofsFormat.RafsBlobRecordSize), ErofsFormat.RafsBlobRecordSize), devices[i], (uint)i, compressor, digester, chunkSize);
        }

        WriteSuperblock(image, plans, devices.Count, metaBlkaddr, (uint)totalBlocks);
        WriteExtendedSuperblock(image, plans, compressor, digester, chunkSize, blobTableOffset, blobTableSize);

        // Last: the checksum covers the extended superblock, device table and everything else in block 0.
        WriteChecksum(image);
        return image;
    }

    /// <summary>Device ids follow the order of the blobs that hold chunks; empty blobs are dropped (their slot maps to -1).</summary>
    private static List<DataBlobResult> SelectDevices(IReadOnlyList<DataBlobResult> blobSlots, out int[] deviceOfSlot)
    {
        deviceOfSlot = new int[blobSlots.Count];
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

        if (devices.Count > MaxDevices)
        {
            throw new InvalidImageException($"an image can reference at most {MaxDevices} data blobs, this one needs {devices.Count}");
        }

        return devices;
    }

    /// <summary>
    /// Places each inode (with its xattrs, inline data and chunk indexes) in the meta area, 32-byte aligned and not
    /// crossing a block when its inline data would; returns the meta area's size in bytes, block aligned.
    /// </summary>
    private static long AssignNids(List<Plan> plans)
    {
        long pos = FirstInodeOffset;
        foreach (Plan p in plans)
        {
            pos = Align(pos, FirstInodeOffset);
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

        return Align(pos, BlockSize);
    }

    /// <summary>Gives each plain (not inline) data its blocks from <paramref name="firstBlock"/> on; returns the image's block count.</summary>
    private static long AssignDataBlocks(List<Plan> plans, long firstBlock)
    {
        long dataBlock = firstBlock;
        foreach (Plan p in plans)
        {
            if (p.PlainData is not null)
            {
                p.RawBlkaddr = (uint)dataBlock;
                dataBlock += Align(p.PlainData.Length, BlockSize) / BlockSize;
            }
        }

        return dataBlock;
    }

    private static long Align(long value, long alignment) => (value + alignment - 1) / alignment * alignment;
}
