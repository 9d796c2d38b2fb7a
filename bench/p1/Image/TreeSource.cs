namespace Snapshotter.P1.Benchmarks.Image;

/// <summary>
/// A host directory copied into a layer at <paramref name="ImagePath"/>: regular files (at most
/// <paramref name="MaxFileBytes"/> each; when <paramref name="NameContains"/> is set, only names containing it) and
/// symlinks, in ordinal path order.
/// </summary>
internal sealed record TreeSource(string HostPath, string ImagePath, long MaxFileBytes = long.MaxValue, string? NameContains = null);
