using Snapshotter.Erofs.Conversion;

namespace Snapshotter.Erofs.Tooling;

/// <summary>The logic behind <c>snapshotter convert</c>: progress on one rewritten line (a terminal), the result summary on <c>output</c>.</summary>
internal static class ImageConversionRunner
{
    public static async Task<int> RunAsync(string source, string target, ChunkCompressor compressor, int chunkSize, string? platform, TextWriter output, TextWriter? progressOutput, CancellationToken cancellationToken = default)
    {
        ImageReference from = ImageReference.Parse(source);
        ImageReference to = ImageReference.Parse(target);
        var options = new ImageBuildOptions { Compressor = compressor, ChunkSize = chunkSize };
        IProgress<ConversionProgress>? progress = null;
        if (progressOutput is not null)
        {
            long lastTick = 0;
            progress = new SynchronousProgress(p =>
            {
                long now = Environment.TickCount64;
                if (now - lastTick < 200 && p.LayerBytesRead < p.LayerSize)
                {
                    return;
                }

                lastTick = now;
                progressOutput.Write($"\rlayer {p.Layer + 1}/{p.LayerCount}: {p.LayerBytesRead / (1 << 20)}/{p.LayerSize / (1 << 20)} MiB   ");
            });
        }

        var started = System.Diagnostics.Stopwatch.StartNew();
        ConversionResult result = await ImageConverter.ConvertAsync(new OciLayout(from), new OciLayout(to), options, platform, progress, cancellationToken: cancellationToken).ConfigureAwait(false);
        progressOutput?.WriteLine();

        output.WriteLine($"converted {from} -> {to} in {started.Elapsed.TotalSeconds:F1}s");
        output.WriteLine($"manifest {result.Manifest.Digest}");
        foreach (OciDescriptor blob in result.DataBlobs)
        {
            output.WriteLine($"data blob {blob.Digest} {blob.Size} bytes");
        }

        output.WriteLine($"bootstrap layer {result.BootstrapLayer.Digest} {result.BootstrapLayer.Size} bytes");
        return 0;
    }

    public static ChunkCompressor ParseCompressor(string text) => text switch
    {
        "zstd" => ChunkCompressor.Zstd,
        "lz4" or "lz4_block" => ChunkCompressor.Lz4Block,
        "gzip" => ChunkCompressor.Gzip,
        "none" => ChunkCompressor.None,
        _ => throw new ArgumentException($"unknown compressor '{text}' (zstd, lz4, gzip, none)"),
    };

    private sealed class SynchronousProgress(Action<ConversionProgress> report) : IProgress<ConversionProgress>
    {
        public void Report(ConversionProgress value) => report(value);
    }
}
