using System.CommandLine;
using Snapshotter.Erofs;
using Snapshotter.Erofs.Tooling;

namespace Snapshotter.Cli;

/// <summary><c>snapshotter convert SOURCE TARGET [--compressor …] [--chunk-size N] [--platform P]</c>.</summary>
internal static class ConvertCommand
{
    public static Command Create()
    {
        var source = new Argument<string>("source") { Description = "The image to convert: oci:PATH[:TAG] (registry references are not supported yet)" };
        var target = new Argument<string>("target") { Description = "Where to write the lazily pullable image: oci:PATH[:TAG]" };
        var compressor = new Option<string>("--compressor") { Description = "Chunk compressor: zstd (default), lz4, gzip or none", DefaultValueFactory = _ => "zstd" };
        compressor.AcceptOnlyFromAmong("zstd", "lz4", "gzip", "none");
        var chunkSize = new Option<int>("--chunk-size") { Description = "Chunk size in bytes, a power of two from 4096 to 16777216 (default 1048576)", DefaultValueFactory = _ => 1024 * 1024 };
        var platform = new Option<string?>("--platform") { Description = "Platform to pick from a multi-platform image, e.g. linux/amd64 (default: the host's)" };
        var command = new Command("convert", "Convert an OCI image into a lazily pullable EROFS/RAFS v6 image (one data blob per layer plus a bootstrap)")
        {
            source,
            target,
            compressor,
            chunkSize,
            platform,
        };
        command.SetAction(async (ParseResult result, CancellationToken cancellationToken) =>
        {
            try
            {
                return await ImageConversionRunner.RunAsync(
                    result.GetValue(source)!,
                    result.GetValue(target)!,
                    ImageConversionRunner.ParseCompressor(result.GetValue(compressor)!),
                    result.GetValue(chunkSize),
                    result.GetValue(platform),
                    Console.Out,
                    Console.IsErrorRedirected ? null : Console.Error,
                    cancellationToken);
            }
            catch (Exception e) when (e is InvalidImageException or NotSupportedException or ArgumentException or IOException)
            {
                await Console.Error.WriteLineAsync($"convert: {e.Message}");
                return 1;
            }
        });
        return command;
    }
}
