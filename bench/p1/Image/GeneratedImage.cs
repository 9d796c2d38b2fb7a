namespace Snapshotter.P1.Benchmarks.Image;

/// <summary>
/// The generated ordinary image: an OCI layout (gzip layers), what its layers hold, what the command reads and the
/// output it must print.
/// </summary>
internal sealed record GeneratedImage(string LayoutPath, string Tag, IReadOnlyList<LayerInfo> Layers, IReadOnlyList<FileRead> Reads, IReadOnlyList<string> ExpectedOutput)
{
    public long FileBytes => Layers.Sum(l => l.FileBytes);

    public long GzipBytes => Layers.Sum(l => l.GzipBytes);

    /// <summary>File bytes the command reads (whole small files and busybox, part of the big file).</summary>
    public long ReadBytes => Reads.Sum(r => r.Bytes);
}
