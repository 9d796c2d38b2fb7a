using System.Runtime.InteropServices;

namespace Snapshotter.Core.Interop;

/// <summary>
/// <c>struct statx</c> from linux/stat.h. Its layout is fixed across architectures (256 bytes), which is why
/// statx is used rather than stat(2), whose struct differs per architecture.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 256)]
internal struct Statx
{
    [FieldOffset(0)] public uint stx_mask;
    [FieldOffset(4)] public uint stx_blksize;
    [FieldOffset(16)] public uint stx_nlink;
    [FieldOffset(20)] public uint stx_uid;
    [FieldOffset(24)] public uint stx_gid;
    [FieldOffset(28)] public ushort stx_mode;
    [FieldOffset(32)] public ulong stx_ino;
    [FieldOffset(40)] public ulong stx_size;
    [FieldOffset(48)] public ulong stx_blocks;
    [FieldOffset(128)] public uint stx_rdev_major;
    [FieldOffset(132)] public uint stx_rdev_minor;
    [FieldOffset(136)] public uint stx_dev_major;
    [FieldOffset(140)] public uint stx_dev_minor;

    public readonly bool IsDirectory => (stx_mode & Libc.S_IFMT) == Libc.S_IFDIR;
}
