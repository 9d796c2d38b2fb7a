namespace Snapshotter.Fuse.Benchmarks;

/// <summary>One way of reading the big file: its path (null when the variant could not be set up) and a note.</summary>
internal sealed record BenchVariant(string Name, string? Path, string? Note = null);
