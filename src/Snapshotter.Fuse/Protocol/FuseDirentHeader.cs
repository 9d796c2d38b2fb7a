using System.Runtime.InteropServices;

namespace Snapshotter.Fuse.Protocol;

/// <summary>
/// <c>struct fuse_dirent</c> without its name (24 bytes); <see cref="Off"/> is the offset of the NEXT entry. Each
/// record (header + name) is padded to 8 bytes.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseDirentHeader
{
    public const int Size = 24;

    public ulong Ino;
    public ulong Off;
    public uint Namelen;
    public uint Type;
}
