namespace Snapshotter.P1.Benchmarks.Image;

/// <summary>What a generated layer holds: its name, file count and bytes, tar size (diff) and gzip blob.</summary>
internal sealed record LayerInfo(string Name, int Files, long FileBytes, long TarBytes, string DiffId, string Digest, long GzipBytes);
