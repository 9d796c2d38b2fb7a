using Snapshotter.Erofs;
using Snapshotter.Erofs.Conversion;
using Snapshotter.Lazy.Conversion;

namespace Snapshotter.Cli;

/// <summary>The logic behind <c>snapshotter convert</c>: progress to <c>progress</c> (the CLI renders it), the result summary on <c>output</c>.</summary>
internal static class ImageConversionRunner
{
    public static async Task<int> RunAsync(
        string source, string target, ImageBuildOptions options, string? platform, TextWriter output, IProgress<ConversionProgress>? progress,
        CancellationToken cancellationToken = default)
    {
        using var client = new RegistryClient();
        (IImageSource from, string fromName) = OpenSource(source, client);
        (IImageSink to, string toName) = OpenSink(target, client);
        var started = System.Diagnostics.Stopwatch.StartNew();
        ConversionResult result = await ImageConverter.ConvertAsync(from, to, options, platform, progress, cancellationToken: cancellationToken).ConfigureAwait(false);

        output.WriteLine($"converted {fromName} -> {toName} in {started.Elapsed.TotalSeconds:F1}s");
        output.WriteLine($"manifest {result.Manifest.Digest}");
        foreach (Descriptor blob in result.DataBlobs)
        {
            output.WriteLine($"data blob {blob.Digest} {blob.Size} bytes");
        }

        output.WriteLine($"bootstrap layer {result.BootstrapLayer.Digest} {result.BootstrapLayer.Size} bytes");
        return 0;
    }

    /// <summary><c>oci:PATH[:TAG]</c> is an OCI layout; anything else a registry reference (hosts.toml and docker credentials apply).</summary>
    private static (IImageSource Source, string Name) OpenSource(string text, RegistryClient client)
    {
        if (OciLayoutReference.IsLayout(text))
        {
            var layout = OciLayoutReference.Parse(text);
            return (new OciLayout(layout), layout.ToString());
        }

        var reference = ImageReference.Parse(text);
        return (new RegistryImageSource(client, reference), reference.ToString());
    }

    private static (IImageSink Sink, string Name) OpenSink(string text, RegistryClient client)
    {
        if (OciLayoutReference.IsLayout(text))
        {
            var layout = OciLayoutReference.Parse(text);
            return (new OciLayout(layout), layout.ToString());
        }

        var reference = ImageReference.Parse(text);
        if (reference.Digest is not null)
        {
            throw new ArgumentException($"'{text}': a conversion target needs a tag, not a digest");
        }

        return (new RegistryImageSink(client, reference), reference.ToString());
    }

    public static ChunkCompressor ParseCompressor(string text) => text switch
    {
        "zstd" => ChunkCompressor.Zstd,
        "lz4" or "lz4_block" => ChunkCompressor.Lz4Block,
        "gzip" => ChunkCompressor.Gzip,
        "none" => ChunkCompressor.None,
        _ => throw new ArgumentException($"unknown compressor '{text}' (zstd, lz4, gzip, none)"),
    };

    public static ChunkDigester ParseDigester(string text) => text switch
    {
        "blake3" => ChunkDigester.Blake3,
        "sha256" => ChunkDigester.Sha256,
        _ => throw new ArgumentException($"unknown chunk digester '{text}' (blake3, sha256)"),
    };
}
