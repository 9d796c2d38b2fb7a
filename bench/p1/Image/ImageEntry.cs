namespace Snapshotter.P1.Benchmarks.Image;

/// <summary>One tar entry of a generated layer: a directory, a regular file (host file or bytes) or a symlink.</summary>
internal sealed record ImageEntry(string Path, ImageEntryKind Kind, UnixFileMode Mode, long Size, string? HostPath = null, byte[]? Content = null, string? LinkTarget = null);
