namespace Snapshotter.Core.Snapshots;

/// <summary>A mount the caller performs to use a snapshot (containerd's <c>mount.Mount</c>).</summary>
/// <param name="Type">Filesystem type, e.g. <c>bind</c> or <c>overlay</c>.</param>
/// <param name="Source">Mount source (a directory for bind, <c>overlay</c> for overlay).</param>
/// <param name="Options">fstab-style options such as <c>ro</c>, <c>rbind</c>, <c>lowerdir=...</c>.</param>
public sealed record Mount(string Type, string Source, IReadOnlyList<string> Options);
