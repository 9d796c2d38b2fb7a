using System.Runtime.InteropServices;

namespace Snapshotter.Fuse.Protocol;

/// <summary><c>struct fuse_attr</c> (88 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseAttr
{
    public const int Size = 88;

    public ulong Ino;
    public ulong FileSize;
    public ulong Blocks;
    public ulong Atime;
    public ulong Mtime;
    public ulong Ctime;
    public uint Atimensec;
    public uint Mtimensec;
    public uint Ctimensec;
    public uint Mode;
    public uint Nlink;
    public uint Uid;
    public uint Gid;
    public uint Rdev;
    public uint Blksize;
    public uint Flags;
}
