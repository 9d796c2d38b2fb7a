namespace Snapshotter.P1.Benchmarks.Image;

/// <summary>A file the benchmark command reads, and how many of its bytes.</summary>
internal sealed record FileRead(string Path, long Bytes);
