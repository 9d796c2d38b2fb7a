namespace Snapshotter.Erofs.Building;

/// <summary>
/// The owner and modification time a tar entry gives its inode, copied as they are (the mode is not here: the entry's
/// permission bits are merged with the inode's type bits).
/// </summary>
internal readonly record struct InodeOwnership(uint Uid, uint Gid, long MtimeSeconds, uint MtimeNanoseconds);
