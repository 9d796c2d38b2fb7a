namespace Snapshotter.Erofs.Building;

/// <summary>A name in a directory of the merged tree; <see cref="Layer"/> is the layer that wrote it (whiteouts only hide lower layers).</summary>
internal sealed class FsEntry(FsInode inode, int layer)
{
    public FsInode Inode { get; set; } = inode;

    public int Layer { get; set; } = layer;
}
