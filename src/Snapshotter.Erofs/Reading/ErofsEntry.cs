namespace Snapshotter.Erofs.Reading;

/// <summary>A path in the image with its inode, as <see cref="ErofsImage.Walk"/> yields them.</summary>
internal sealed record ErofsEntry(string Path, ErofsInode Inode);
