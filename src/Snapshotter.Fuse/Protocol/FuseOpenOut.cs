using System.Runtime.InteropServices;

namespace Snapshotter.Fuse.Protocol;

/// <summary><c>struct fuse_open_out</c> (16 bytes); <see cref="BackingId"/> counts with FOPEN_PASSTHROUGH (7.40+).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseOpenOut
{
    public const int Size = 16;

    public ulong Fh;
    public uint OpenFlags;
    public int BackingId;
}
