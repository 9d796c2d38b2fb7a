namespace Snapshotter.Fuse.Nodes;

/// <summary>
/// One file of the root directory as the kernel knows it: a node id that is never reused, the kernel's lookup count
/// (LOOKUP and READDIRPLUS add, FORGET subtracts) and the open handles. A removed node lives on until the kernel has
/// forgotten it and closed it, so open files (e.g. an EROFS mount's blob) keep working. Mutable state is guarded by
/// the <see cref="FuseNodeTable"/>'s lock.
/// </summary>
internal sealed class FuseNode(ulong id, IFuseFile file, byte[] nameBytes, long createdUnixSeconds)
{
    public ulong Id { get; } = id;

    public IFuseFile File { get; } = file;

    /// <summary>The name in UTF-8, as READDIR sends it.</summary>
    public byte[] NameBytes { get; } = nameBytes;

    /// <summary>Size captured when the file was added (files are immutable).</summary>
    public long Size { get; } = file.Size;

    /// <summary>atime/mtime/ctime of the file: when it was added.</summary>
    public long CreatedUnixSeconds { get; } = createdUnixSeconds;

    public long Lookups { get; set; }

    public bool Removed { get; set; }

    /// <summary>Opens served through READ (page cache I/O).</summary>
    public int CachedOpens { get; set; }

    /// <summary>Opens in passthrough mode (the kernel reads the backing file itself).</summary>
    public int PassthroughOpens { get; set; }

    /// <summary>The kernel's id of the registered passthrough backing file; 0 when none.</summary>
    public int BackingId { get; set; }

    /// <summary>Whether nothing refers to the node any more (removed, forgotten, closed).</summary>
    public bool IsDead => Removed && Lookups <= 0 && CachedOpens == 0 && PassthroughOpens == 0;
}
