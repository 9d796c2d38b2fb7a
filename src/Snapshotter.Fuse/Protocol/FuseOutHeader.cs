using System.Runtime.InteropServices;

namespace Snapshotter.Fuse.Protocol;

/// <summary><c>struct fuse_out_header</c> (16 bytes): the head of every reply; <see cref="Error"/> is 0 or -errno.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseOutHeader
{
    public const int Size = 16;

    public uint Len;
    public int Error;
    public ulong Unique;
}
