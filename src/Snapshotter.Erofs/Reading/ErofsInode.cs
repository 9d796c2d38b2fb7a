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

    public bool IsDirectory => (Mode & ErofsFormat.ModeTypeMask) == ErofsFormat.ModeDirectory;

    public bool IsRegularFile => (Mode & ErofsFormat.ModeTypeMask) == ErofsFormat.ModeRegular;

    public bool IsSymlink => (Mode & ErofsFormat.ModeTypeMask) == ErofsFormat.ModeSymlink;

    public bool IsDevice => (Mode & ErofsFormat.ModeTypeMask) is ErofsFormat.ModeCharDevice or ErofsFormat.ModeBlockDevice;

    /// <summary>Major and minor numbers of a device node (0, 0 otherwise).</summary>
    public (uint Major, uint Minor) Device => IsDevice ? ErofsFormat.DecodeDevice(RawU) : (0, 0);
}
