using System.Security.Cryptography;
using System.Text;
using Snapshotter.Erofs.Reading;
using Snapshotter.Erofs.Tests.Interop;
using Tmds.Linux;

namespace Snapshotter.Erofs.Tests.Infrastructure;

/// <summary>
/// One canonical line per entry (mode with type bits, owner, size, mtime, rdev, nlink, link target,
/// content digest, xattrs, hard-link group), built either from the kernel (lstat on a mount) or from
/// our reader, so the two views can be compared line by line.
/// </summary>
internal static class TreeView
{
    public static List<string> FromKernel(string root)
    {
        var lines = new List<(string Path, string Line, ulong Ino, ulong Nlink, bool Regular)>();
        var stack = new Stack<string>();
        stack.Push("/");
        while (stack.Count > 0)
        {
            string rel = stack.Pop();
            string full = rel == "/" ? root : root + rel;
            statx st = Syscalls.LStatx(full);
            ulong ino = st.stx_ino;
            ulong nlink = st.stx_nlink;
            uint mode = st.stx_mode;
            long size = (long)st.stx_size;
            string extra = (mode & 0xF000) switch
            {
                0x8000 => "sha256=" + Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(full))),
                0xA000 => "-> " + new FileInfo(full).LinkTarget,
                _ => string.Empty,
            };
            bool dir = (mode & 0xF000) == 0x4000;
            lines.Add((rel, Line(rel, mode, st.stx_uid, st.stx_gid, dir ? -1 : size, st.stx_mtime.tv_sec, st.stx_mtime.tv_nsec, st.stx_rdev_major, st.stx_rdev_minor, nlink, extra, KernelXattrs(full)), ino, nlink, (mode & 0xF000) == 0x8000));
            if (dir)
            {
                foreach (string child in Directory.EnumerateFileSystemEntries(full).Select(Path.GetFileName).OrderByDescending(n => n, StringComparer.Ordinal)!)
                {
                    stack.Push(rel == "/" ? "/" + child : rel + "/" + child);
                }
            }
        }

        return Finish(lines.Select(l => (l.Path, l.Line, l.Ino, l.Nlink > 1 && l.Regular)));
    }

    public static List<string> FromReader(ErofsImage image, IReadOnlyList<IRandomAccessSource>? devices)
    {
        var lines = new List<(string Path, string Line, ulong Ino, bool Linked)>();
        byte[] buffer = new byte[1 << 20];
        foreach (ErofsEntry entry in image.Walk())
        {
            ErofsInode inode = entry.Inode;
            string extra = string.Empty;
            if (inode.IsRegularFile)
            {
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                for (long pos = 0; pos < (long)inode.Size;)
                {
                    int n = image.ReadFile(inode, pos, buffer, devices);
                    hash.AppendData(buffer, 0, n);
                    pos += n;
                }

                extra = "sha256=" + Convert.ToHexStringLower(hash.GetHashAndReset());
            }
            else if (inode.IsSymlink)
            {
                extra = "-> " + image.ReadSymlink(inode);
            }

            var xattrs = image.ReadXattrs(inode).Select(x => $"{x.Name}={Convert.ToHexStringLower(x.Value)}").Order(StringComparer.Ordinal);
            (uint major, uint minor) = inode.Device;
            lines.Add((entry.Path, Line(entry.Path, inode.Mode, inode.Uid, inode.Gid, inode.IsDirectory ? -1 : (long)inode.Size, inode.MtimeSeconds, inode.MtimeNanoseconds, major, minor, inode.LinkCount, extra, string.Join(',', xattrs)), inode.Nid, inode.LinkCount > 1 && inode.IsRegularFile));
        }

        return Finish(lines);
    }

    private static List<string> Finish(IEnumerable<(string Path, string Line, ulong Ino, bool Linked)> lines)
    {
        var list = lines.ToList();
        var groups = list.Where(l => l.Linked).GroupBy(l => l.Ino).ToDictionary(g => g.Key, g => g.Select(x => x.Path).Order(StringComparer.Ordinal).First());
        return list.Select(l => l.Linked ? $"{l.Line} link-group={groups[l.Ino]}" : l.Line).ToList();
    }

    private static string Line(string path, uint mode, uint uid, uint gid, long size, long mtime, long nsec, uint major, uint minor, ulong nlink, string extra, string xattrs) =>
        $"{path} mode={Convert.ToString(mode, 8)} {uid}:{gid} size={size} mtime={mtime}.{nsec:D9} rdev={major}:{minor} nlink={nlink} {extra} xattrs[{xattrs}]";

    private static string KernelXattrs(string path)
    {
        byte[] list = new byte[65536];
        nint n = Xattrs.llistxattr(path, list, (nuint)list.Length);
        if (n <= 0)
        {
            return string.Empty;
        }

        var result = new List<string>();
        foreach (string name in Encoding.UTF8.GetString(list, 0, (int)n).Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            byte[] value = new byte[65536];
            nint len = Xattrs.lgetxattr(path, name, value, (nuint)value.Length);
            Assert.True(len >= 0, $"lgetxattr {path} {name}");
            result.Add($"{name}={Convert.ToHexStringLower(value.AsSpan(0, (int)len))}");
        }

        return string.Join(',', result.Order(StringComparer.Ordinal));
    }
}
