using System.CommandLine;
using Snapshotter.Erofs;

namespace Snapshotter.Cli;

/// <summary><c>snapshotter inspect IMAGE [--blob-dir DIR] [--ls] [--cat PATH]</c>.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var image = new Argument<string>("image") { Description = "A bootstrap file, oci:PATH[:TAG] or a registry reference (hosts.toml and docker credentials apply)" };
        var blobDir = new Option<string?>("--blob-dir") { Description = "Directory holding the data blobs, each named by its device tag (default for oci: the layout's blobs/sha256)" };
        var list = new Option<bool>("--ls") { Description = "List every entry: mode uid gid size path[ -> target]" };
        var cat = new Option<string?>("--cat") { Description = "Write the contents of this absolute path to stdout" };
        var command = new Command("inspect", "Show the blobs of a lazily pullable image, list its files or print one")
        {
            image,
            blobDir,
            list,
            cat,
        };
        command.SetAction(async (ParseResult result, CancellationToken cancellationToken) =>
        {
            try
            {
                await using Stream stdout = Console.OpenStandardOutput();
                return await ImageInspector.RunAsync(result.GetValue(image)!, result.GetValue(blobDir), result.GetValue(list), result.GetValue(cat), Console.Out, stdout, cancellationToken);
            }
            catch (Exception e) when (e is InvalidImageException or NotSupportedException or ArgumentException or IOException)
            {
                await Console.Error.WriteLineAsync($"inspect: {e.Message}");
                return 1;
            }
        });
        return command;
    }
}
