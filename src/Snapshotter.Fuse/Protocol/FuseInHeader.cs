using System.Runtime.InteropServices;

namespace Snapshotter.Fuse.Protocol;

/// <summary><c>struct fuse_in_header</c> (40 bytes): the head of every request read from /dev/fuse.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseInHeader
{
    public const int Size = 40;

    public uint Len;
    public uint Opcode;
    public ulong Unique;
    public ulong NodeId;
    public uint Uid;
    public uint Gid;
    public uint Pid;
    public ushort TotalExtlen;
    public ushort Padding;
}
