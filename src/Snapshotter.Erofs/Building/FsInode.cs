namespace Snapshotter.Erofs.Building;

/// <summary>
/// An inode of the merged tree. Hard links are several <see cref="FsEntry"/>s sharing one instance;
/// directories own their children (names compared ordinally, as the kernel does).
/// </summary>
internal sealed class FsInode
{
    public uint Mode { get; set; }

    public InodeOwnership Ownership { get; set; }

    public ulong Size { get; set; }

    public uint Rdev { get; set; }

    public byte[]? SymlinkTarget { get; set; }

    public List<KeyValuePair<string, byte[]>>? Xattrs { get; set; }

    /// <summary>
    /// The file's chunks in segments of at most <see cref="ChunkSegmentSize"/>, allocated as data
    /// arrives so a hostile size field cannot make us allocate up front.
    /// </summary>
    public List<ChunkRef[]>? Chunks { get; set; }

    public const int ChunkSegmentSize = 4096;

    public int ChunkCount => Chunks?.Sum(s => s.Length) ?? 0;

    public Dictionary<string, FsEntry>? Children { get; set; }

    public bool IsDirectory => (Mode & ErofsFormat.ModeTypeMask) == ErofsFormat.ModeDirectory;

    public static FsInode NewDirectory(uint permissions = 0x1ED) => new() { Mode = ErofsFormat.ModeDirectory | permissions, Children = new(StringComparer.Ordinal) };
}
