using System.CommandLine;
using Snapshotter.Erofs;
using Snapshotter.Erofs.Conversion;

namespace Snapshotter.Cli;

/// <summary>
/// <c>snapshotter convert SOURCE TARGET [--compressor …] [--chunk-size N] [--digester blake3|sha256] [--platform P]</c>: progress per source layer on
/// standard error (<see cref="ProgressRenderer"/>), the converted image's digests on standard output.
/// </summary>
internal static class ConvertCommand
{
    public static Command Create()
    {
        var source = new Argument<string>("source") { Description = "The image to convert: a registry reference (e.g. registry.example.com/app:v1) or oci:PATH[:TAG]" };
        var target = new Argument<string>("target") { Description = "Where to write the lazily pullable image: a registry reference with a tag (pushed; hosts.toml and docker credentials apply) or oci:PATH[:TAG]" };
        var compressor = new Option<string>("--compressor") { Description = "Chunk compressor: zstd (default), lz4, gzip or none", DefaultValueFactory = _ => "zstd" };
        compressor.AcceptOnlyFromAmong("zstd", "lz4", "gzip", "none");
        var chunkSize = new Option<int>("--chunk-size") { Description = "Chunk size in bytes, a power of two from 4096 to 16777216 (default 1048576)", DefaultValueFactory = _ => 1024 * 1024 };
        var digester = new Option<string>("--digester")
        {
            Description = "Hash of each chunk in the data blobs' chunk digest tables: sha256 (default) or blake3 (nydus-image's default). The blobs' own digests are sha256 either way",
            // The converter's own default, named: one place decides it (ImageBuildOptions).
            DefaultValueFactory = _ => ChunkDigest.Name(new ImageBuildOptions().Digester),
        };
        digester.AcceptOnlyFromAmong("blake3", "sha256");
        var platform = new Option<string?>("--platform") { Description = "Platform to pick from a multi-platform image, e.g. linux/amd64 (default: the host's)" };
        var command = new Command("convert", "Convert an OCI image into a lazily pullable EROFS/RAFS v6 image (one data blob per layer plus a bootstrap). " +
            "Progress goes to standard error: a live line on a terminal, one line per converted layer otherwise; the digests go to standard output.")
        {
            source,
            target,
            compressor,
            chunkSize,
            digester,
            platform,
        };
        command.SetAction(async (ParseResult result, CancellationToken cancellationToken) =>
        {
            // Progress on standard error (a live line on a terminal, one line per layer otherwise); the summary goes to
            // standard output once the progress is finished, so that the two never share a line.
            var summary = new StringWriter();
            using var renderer = ProgressRenderer.ForStandardError();
            var progress = new SynchronousProgress<ConversionProgress>(p => renderer.Report($"layer {p.Layer + 1}/{p.LayerCount}", p.LayerBytesRead, p.LayerSize));
            try
            {
                var exit = await ImageConversionRunner.RunAsync(
                    result.GetValue(source)!,
                    result.GetValue(target)!,
                    new ImageBuildOptions
                    {
                        Compressor = ImageConversionRunner.ParseCompressor(result.GetValue(compressor)!),
                        ChunkSize = result.GetValue(chunkSize),
                        Digester = ImageConversionRunner.ParseDigester(result.GetValue(digester)!),
                    },
                    result.GetValue(platform),
                    summary,
                    progress,
                    cancellationToken);
                renderer.Complete();
                await Console.Out.WriteAsync(summary.ToString());
                return exit;
            }
            catch (Exception e) when (e is InvalidImageException or NotSupportedException or ArgumentException or IOException)
            {
                renderer.Complete();
                await Console.Error.WriteLineAsync($"convert: {e.Message}");
                return 1;
            }
        });
        return command;
    }
}
