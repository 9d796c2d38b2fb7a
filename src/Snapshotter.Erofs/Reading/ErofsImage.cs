using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using static Snapshotter.Erofs.Format.ErofsFieldOffsets;

namespace Snapshotter.Erofs.Reading;

/// <summary>
/// A bounds-checked reader of EROFS images (plain, mkfs.erofs chunk-based/multi-device, and Nydus
/// RAFS v6 bootstraps). No on-disk field is trusted: every offset, size and count is checked against
/// the image before it is used, and corrupt input raises <see cref="InvalidImageException"/>.
/// </summary>
public sealed partial class ErofsImage : IDisposable
{
    // Nothing sane needs more; these bound the work a hostile image can cause.
    private const ulong MaxDirectorySize = 1UL << 30;
    private const int MaxSymlinkSize = 4096;
    private const int MaxWalkDepth = 1024;
    private const int MaxDevices = 4096;

    private readonly IRandomAccessSource _source;
    private readonly bool _ownsSource;
    private readonly int _deviceIdMask;

    private ErofsImage(IRandomAccessSource source, bool ownsSource)
    {
        _source = source;
        _ownsSource = ownsSource;
        Superblock = ReadSuperblock();
        Devices = ReadDevices();
        Blobs = Superblock.IsRafsV6 ? ReadBlobTable() : [];
        _deviceIdMask = Superblock.ExtraDevices == 0 ? 0 : (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Superblock.ExtraDevices + 1) - 1;
    }

    /// <summary>The decoded superblock.</summary>
    internal ErofsSuperblock Superblock { get; }

    /// <summary>The device table (extra devices, in device-id order).</summary>
    public IReadOnlyList<ErofsDevice> Devices { get; }

    /// <summary>The RAFS v6 blob table; empty for plain EROFS images.</summary>
    public IReadOnlyList<RafsBlobInfo> Blobs { get; }

    /// <summary>Opens the bootstrap file at <paramref name="path"/>.</summary>
    public static ErofsImage Open(string path)
    {
        var source = new FileSource(path);
        try
        {
            return new ErofsImage(source, ownsSource: true);
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    /// <summary>Opens an image from any positional source.</summary>
    public static ErofsImage Open(IRandomAccessSource source, bool ownsSource = false) => new(source, ownsSource);

    public void Dispose()
    {
        if (_ownsSource && _source is IDisposable d)
        {
            d.Dispose();
        }
    }

    /// <summary>The root directory inode.</summary>
    internal ErofsInode Root => ReadInode(Superblock.RootNid);

    /// <summary>Reads and validates the inode <paramref name="nid"/>.</summary>
    internal ErofsInode ReadInode(ulong nid)
    {
        long metaBase = (long)Superblock.MetaBlockAddress << Superblock.BlockSizeBits;
        if (nid > (ulong)(_source.Length >> ErofsFormat.InodeSlotBits))
        {
            throw new InvalidImageException($"nid {nid} is outside the image");
        }

        long offset = metaBase + ((long)nid << ErofsFormat.InodeSlotBits);
        Span<byte> raw = stackalloc byte[ErofsFormat.ExtendedInodeSize];
        ReadExact(offset, raw[..ErofsFormat.CompactInodeSize], $"inode {nid}");
        ushort format = BinaryPrimitives.ReadUInt16LittleEndian(raw[Inode.Format..]);
        bool extended = (format & 1) != 0;
        int layout = (format >> 1) & 0x7;
        if ((format & ~0xF) != 0)
        {
            throw new InvalidImageException($"inode {nid}: unknown i_format bits 0x{format:x4}");
        }

        if (layout is ErofsFormat.LayoutCompressedFull or ErofsFormat.LayoutCompressedCompact)
        {
            throw new InvalidImageException($"inode {nid}: compressed (z_erofs) inodes are not supported");
        }

        if (layout > ErofsFormat.LayoutChunkBased)
        {
            throw new InvalidImageException($"inode {nid}: unknown data layout {layout}");
        }

        if (extended)
        {
            ReadExact(offset, raw, $"inode {nid}");
        }

        ushort icount = BinaryPrimitives.ReadUInt16LittleEndian(raw[Inode.XattrCount..]);
        uint mode = BinaryPrimitives.ReadUInt16LittleEndian(raw[Inode.Mode..]);
        uint rawU = BinaryPrimitives.ReadUInt32LittleEndian(raw[Inode.Union..]);
        ulong size;
        uint uid, gid, nlink, nsec;
        long mtime;
        if (extended)
        {
            size = BinaryPrimitives.ReadUInt64LittleEndian(raw[Inode.Size..]);
            uid = BinaryPrimitives.ReadUInt32LittleEndian(raw[Inode.Uid..]);
            gid = BinaryPrimitives.ReadUInt32LittleEndian(raw[Inode.Gid..]);
            mtime = (long)BinaryPrimitives.ReadUInt64LittleEndian(raw[Inode.Mtime..]);
            nsec = BinaryPrimitives.ReadUInt32LittleEndian(raw[Inode.MtimeNsec..]);
            nlink = BinaryPrimitives.ReadUInt32LittleEndian(raw[Inode.Nlink..]);
        }
        else
        {
            nlink = BinaryPrimitives.ReadUInt16LittleEndian(raw[CompactInode.Nlink..]);
            size = BinaryPrimitives.ReadUInt32LittleEndian(raw[CompactInode.Size..]);
            uid = BinaryPrimitives.ReadUInt16LittleEndian(raw[CompactInode.Uid..]);
            gid = BinaryPrimitives.ReadUInt16LittleEndian(raw[CompactInode.Gid..]);
            mtime = (long)Superblock.BuildTime;
            nsec = Superblock.BuildTimeNsec;
        }

        if (ErofsFormat.FileTypeFromMode(mode) == ErofsFormat.FtUnknown)
        {
            throw new InvalidImageException($"inode {nid}: invalid file type in mode 0{Convert.ToString(mode, 8)}");
        }

        if (size > (1UL << 52))
        {
            throw new InvalidImageException($"inode {nid}: size {size} is implausible");
        }

        if (nsec >= 1_000_000_000)
        {
            throw new InvalidImageException($"inode {nid}: mtime nanoseconds {nsec} out of range");
        }

        int xattrSize = icount == 0 ? 0 : ErofsFormat.XattrHeaderSize + ((icount - 1) * 4);
        var inode = new ErofsInode(nid, extended, layout, mode, uid, gid, size, mtime, nsec, nlink, rawU, xattrSize) { Offset = offset };
        if (offset + inode.InodeSize + xattrSize > _source.Length)
        {
            throw new InvalidImageException($"inode {nid}: inline xattrs run past the end of the image");
        }

        if (layout == ErofsFormat.LayoutChunkBased && !inode.IsRegularFile && !inode.IsDirectory && !inode.IsSymlink)
        {
            throw new InvalidImageException($"inode {nid}: chunk-based layout on a special file");
        }

        if (layout == ErofsFormat.LayoutChunkBased)
        {
            _ = ChunkGeometry(inode);
        }

        return inode;
    }

    /// <summary>Lists a directory (sorted as stored; includes <c>.</c> and <c>..</c>).</summary>
    internal IReadOnlyList<ErofsDirEntry> ReadDirectory(ErofsInode directory)
    {
        if (!directory.IsDirectory)
        {
            throw new InvalidImageException($"inode {directory.Nid} is not a directory");
        }

        if (directory.Size > MaxDirectorySize)
        {
            throw new InvalidImageException($"directory {directory.Nid}: size {directory.Size} is implausible");
        }

        int blockSize = 1 << Superblock.BlockSizeBits;
        var entries = new List<ErofsDirEntry>();
        byte[] block = ArrayPool<byte>.Shared.Rent(blockSize);
        try
        {
            for (ulong pos = 0; pos < directory.Size; pos += (ulong)blockSize)
            {
                int max = (int)Math.Min((ulong)blockSize, directory.Size - pos);
                Span<byte> span = block.AsSpan(0, max);
                ReadData(directory, (long)pos, span);
                ParseDirectoryBlock(directory.Nid, span, entries);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(block);
        }

        return entries;
    }

    /// <summary>Reads a symlink's target.</summary>
    internal string ReadSymlink(ErofsInode inode)
    {
        if (!inode.IsSymlink)
        {
            throw new InvalidImageException($"inode {inode.Nid} is not a symlink");
        }

        if (inode.Size == 0 || inode.Size > MaxSymlinkSize)
        {
            throw new InvalidImageException($"symlink {inode.Nid}: target length {inode.Size} out of range");
        }

        byte[] target = new byte[(int)inode.Size];
        ReadData(inode, 0, target);
        return Encoding.UTF8.GetString(target);
    }

    /// <summary>Reads the symlink target as raw bytes.</summary>
    internal byte[] ReadSymlinkBytes(ErofsInode inode)
    {
        _ = ReadSymlink(inode);
        byte[] target = new byte[(int)inode.Size];
        ReadData(inode, 0, target);
        return target;
    }

    /// <summary>Resolves an absolute path without following symlinks; null when it does not exist.</summary>
    internal ErofsInode? Lookup(string path)
    {
        ErofsInode current = Root;
        foreach (string part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!current.IsDirectory)
            {
                return null;
            }

            ErofsDirEntry? found = null;
            foreach (ErofsDirEntry entry in ReadDirectory(current))
            {
                if (entry.Name == part)
                {
                    found = entry;
                    break;
                }
            }

            if (found is null)
            {
                return null;
            }

            current = ReadInode(found.Value.Nid);
        }

        return current;
    }

    /// <summary>
    /// Enumerates every entry depth-first in directory order, root first ("/"). A directory reached
    /// twice (a cycle or a hard-linked directory) is an error, which bounds the walk by the image size.
    /// </summary>
    internal IEnumerable<ErofsEntry> Walk()
    {
        var visited = new HashSet<ulong>();
        var stack = new Stack<(string Path, ulong Nid, int Depth)>();
        stack.Push(("/", Superblock.RootNid, 0));
        while (stack.Count > 0)
        {
            (string path, ulong nid, int depth) = stack.Pop();
            ErofsInode inode = ReadInode(nid);
            yield return new ErofsEntry(path, inode);
            if (!inode.IsDirectory)
            {
                continue;
            }

            if (!visited.Add(nid))
            {
                throw new InvalidImageException($"directory nid {nid} is reachable twice (at {path})");
            }

            if (depth >= MaxWalkDepth)
            {
                throw new InvalidImageException($"directory tree deeper than {MaxWalkDepth} at {path}");
            }

            IReadOnlyList<ErofsDirEntry> children = ReadDirectory(inode);
            for (int i = children.Count - 1; i >= 0; i--)
            {
                ErofsDirEntry child = children[i];
                if (child.Name is "." or "..")
                {
                    continue;
                }

                stack.Push((path == "/" ? "/" + child.Name : path + "/" + child.Name, child.Nid, depth + 1));
            }
        }
    }

    private void ReadExact(long offset, Span<byte> destination, string what)
    {
        if (offset < 0 || offset > _source.Length - destination.Length || _source.ReadAt(offset, destination) != destination.Length)
        {
            throw new InvalidImageException($"{what}: bytes [{offset}, +{destination.Length}) are outside the image ({_source.Length} bytes)");
        }
    }

    private static void ParseDirectoryBlock(ulong nid, ReadOnlySpan<byte> block, List<ErofsDirEntry> entries)
    {
        if (block.Length < ErofsFormat.DirentSize)
        {
            throw new InvalidImageException($"directory {nid}: block of {block.Length} bytes cannot hold a dirent");
        }

        int firstNameOff = BinaryPrimitives.ReadUInt16LittleEndian(block[Dirent.NameOffset..]);
        if (firstNameOff < ErofsFormat.DirentSize || firstNameOff % ErofsFormat.DirentSize != 0 || firstNameOff >= block.Length)
        {
            throw new InvalidImageException($"directory {nid}: invalid first nameoff {firstNameOff}");
        }

        int count = firstNameOff / ErofsFormat.DirentSize;
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> de = block.Slice(i * ErofsFormat.DirentSize, ErofsFormat.DirentSize);
            ulong childNid = BinaryPrimitives.ReadUInt64LittleEndian(de[Dirent.Nid..]);
            int nameOff = BinaryPrimitives.ReadUInt16LittleEndian(de[Dirent.NameOffset..]);
            byte type = de[Dirent.FileType];
            int nameEnd;
            if (i + 1 < count)
            {
                nameEnd = BinaryPrimitives.ReadUInt16LittleEndian(block[(((i + 1) * ErofsFormat.DirentSize) + Dirent.NameOffset)..]);
            }
            else
            {
                // The last name ends at the first NUL or at the end of the block.
                int nul = nameOff < block.Length ? block[nameOff..].IndexOf((byte)0) : -1;
                nameEnd = nul < 0 ? block.Length : nameOff + nul;
            }

            if (nameOff < firstNameOff || nameEnd > block.Length || nameEnd <= nameOff || nameEnd - nameOff > ErofsFormat.MaxNameLength)
            {
                throw new InvalidImageException($"directory {nid}: dirent {i} has an invalid name range [{nameOff}, {nameEnd})");
            }

            if (type > ErofsFormat.FtSymlink)
            {
                throw new InvalidImageException($"directory {nid}: dirent {i} has invalid file type {type}");
            }

            ReadOnlySpan<byte> name = block[nameOff..nameEnd];
            if (name.IndexOf((byte)'/') >= 0 || name.IndexOf((byte)0) >= 0)
            {
                throw new InvalidImageException($"directory {nid}: dirent {i} has a name containing '/' or NUL");
            }

            entries.Add(new ErofsDirEntry(Encoding.UTF8.GetString(name), childNid, type));
        }
    }
}
