namespace Snapshotter.Erofs.Building;

internal static partial class BootstrapWriter
{
    /// <summary>What the writer decides for one inode: its place, its links, its xattrs and where its data goes.</summary>
    private sealed class Plan(FsInode inode)
    {
        public FsInode Inode { get; } = inode;

        public Plan? Parent { get; init; }

        public List<(byte[] Name, FsEntry Entry)>? SortedChildren { get; set; }

        public uint LinkCount { get; set; }

        public byte[] Xattrs { get; init; } = [];

        public byte[]? InlineData { get; set; }

        public byte[]? PlainData { get; set; }

        public ulong DataSize { get; set; }

        public int ChunkIndexCount { get; set; }

        public ulong Nid { get; set; }

        public long Offset { get; set; }

        public uint RawBlkaddr { get; set; }
    }
}
