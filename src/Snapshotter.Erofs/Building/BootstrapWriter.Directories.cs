using System.Buffers.Binary;
using static Snapshotter.Erofs.Format.ErofsFieldOffsets;

namespace Snapshotter.Erofs.Building;

// Directories: "." and ".." plus the sorted children, packed into blocks of dirents followed by their names.
internal static partial class BootstrapWriter
{
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
                BinaryPrimitives.WriteUInt64LittleEndian(de[Dirent.Nid..], nidOf[child]);
                BinaryPrimitives.WriteUInt16LittleEndian(de[Dirent.NameOffset..], (ushort)nameOff);
                de[Dirent.FileType] = ErofsFormat.FileTypeFromMode(child.Mode);
                name.CopyTo(data.AsSpan(blockStart + nameOff));
                nameOff += name.Length;
            }

            i += count;
            blockStart += BlockSize;
        }

        return data;
    }
}
