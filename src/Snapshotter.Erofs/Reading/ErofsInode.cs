namespace Snapshotter.Erofs.Reading;

/// <summary>A validated on-disk inode. <see cref="Mode"/> includes the file type bits (S_IFMT).</summary>
internal sealed record ErofsInode(
    ulong Nid,
    bool IsExtended,
    int DataLayout,
    uint Mode,
    uint Uid,
    uint Gid,
    ulong Size,
    long MtimeSeconds,
    uint MtimeNanoseconds,
    uint LinkCount,
    uint RawU,
    int XattrSize)
{
    /// <summary>The byte offset of the inode in the bootstrap.</summary>
    internal long Offset { get; init; }

    /// <summary>The size of the on-disk inode (32 or 64).</summary>
    internal int InodeSize => IsExtended ? 64 : 32;

    public bool IsDirectory => (Mode & 0xF000) == 0x4000;

    public bool IsRegularFile => (Mode & 0xF000) == 0x8000;

    public bool IsSymlink => (Mode & 0xF000) == 0xA000;

    public bool IsDevice => (Mode & 0xF000) is 0x2000 or 0x6000;

    /// <summary>Major and minor numbers of a device node (0, 0 otherwise).</summary>
    public (uint Major, uint Minor) Device => IsDevice ? Format.ErofsFormat.DecodeDevice(RawU) : (0, 0);
}
