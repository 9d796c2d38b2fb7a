using System.Runtime.InteropServices;

namespace Snapshotter.Fuse.Protocol;

/// <summary><c>struct fuse_open_in</c> (8 bytes): OPEN and OPENDIR requests; <see cref="Flags"/> are open(2) flags.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseOpenIn
{
    public const int Size = 8;

    public uint Flags;
    public uint OpenFlags;
}
