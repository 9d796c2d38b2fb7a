using System.Runtime.InteropServices;

namespace Snapshotter.Fuse.Protocol;

/// <summary><c>struct fuse_read_in</c> (40 bytes): READ, READDIR and READDIRPLUS requests.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseReadIn
{
    public const int Size = 40;

    public ulong Fh;
    public ulong Offset;
    public uint ReadSize;
    public uint ReadFlags;
    public ulong LockOwner;
    public uint Flags;
    public uint Padding;
}
