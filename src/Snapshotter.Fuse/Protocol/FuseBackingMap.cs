using System.Runtime.InteropServices;

namespace Snapshotter.Fuse.Protocol;

/// <summary><c>struct fuse_backing_map</c> (16 bytes): argument of FUSE_DEV_IOC_BACKING_OPEN (passthrough, 7.40+).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseBackingMap
{
    public const int Size = 16;

    public int Fd;
    public uint Flags;
    public ulong Padding;
}
