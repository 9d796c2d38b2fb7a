using System.Text;

namespace Snapshotter.Erofs.Building;

// Xattrs: the inline xattr area of an inode (shared xattrs are not used).
internal static partial class BootstrapWriter
{
    // An inline xattr entry has an 8-bit name length; the whole inline area is kept well inside one block.
    private const int MaxXattrSuffixLength = 255;
    private const int MaxInlineXattrBytes = 2048;

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
            if (suffixBytes.Length > MaxXattrSuffixLength || value.Length > ushort.MaxValue)
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

        if (buffer.Length > MaxInlineXattrBytes)
        {
            throw new InvalidImageException($"xattrs of one inode take {buffer.Length} bytes; at most {MaxInlineXattrBytes} are supported");
        }

        return buffer.ToArray();
    }

    private static (byte Index, string Suffix) SplitXattrName(string name) =>
        XattrNameIndex.TrySplit(name, out byte index, out string suffix)
            ? (index, suffix)
            : throw new InvalidImageException($"xattr '{name}' has a namespace EROFS cannot store");
}
