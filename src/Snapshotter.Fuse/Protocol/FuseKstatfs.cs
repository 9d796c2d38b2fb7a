using System.Runtime.InteropServices;

namespace Snapshotter.Fuse.Protocol;

/// <summary><c>struct fuse_kstatfs</c> (80 bytes) = <c>struct fuse_statfs_out</c>: STATFS reply.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseKstatfs
{
    public const int Size = 80;

    public ulong Blocks;
    public ulong Bfree;
    public ulong Bavail;
    public ulong Files;
    public ulong Ffree;
    public uint Bsize;
    public uint Namelen;
    public uint Frsize;
    public uint Padding;
    public Spare6 Spare;

    [System.Runtime.CompilerServices.InlineArray(6)]
    public struct Spare6
    {
        private uint _element;
    }
}
