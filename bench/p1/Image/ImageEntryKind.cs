namespace Snapshotter.P1.Benchmarks.Image;

internal enum ImageEntryKind
{
    Directory,
    File,
    Symlink,
}
