using System.CommandLine;
using System.Globalization;

namespace Snapshotter.Cli;

/// <summary>
/// <c>snapshotter registry ...</c>: debugging access to a registry the way the snapshotter sees it (same hosts.toml,
/// same docker credentials), like <c>crane manifest</c> / <c>crane blob</c>.
/// </summary>
internal static class RegistryCommand
{
    private const int CopyChunk = 4 * 1024 * 1024;

    public static Command Create() => Create(Console.OpenStandardOutput);

    /// <summary>Builds the command writing its output to the stream <paramref name="openStandardOutput"/> returns (tests pass a buffer).</summary>
    internal static Command Create(Func<Stream> openStandardOutput)
    {
        var command = new Command("registry", "Inspect an OCI registry with the snapshotter's client (hosts.toml, docker credentials)");
        command.Subcommands.Add(CreateManifest(openStandardOutput));
        command.Subcommands.Add(CreateBlob(openStandardOutput));
        return command;
    }

    private static Option<string> HostsDirOption() => new("--hosts-dir")
    {
        Description = "containerd hosts directory (<host>/hosts.toml)",
        DefaultValueFactory = _ => "/etc/containerd/certs.d",
    };

    private static Command CreateManifest(Func<Stream> openStandardOutput)
    {
        var reference = new Argument<string>("REF") { Description = "Image reference, e.g. docker.io/library/busybox:latest" };
        var platform = new Option<string?>("--platform") { Description = "Platform to pick from an index (os/arch[/variant]); default linux/amd64" };
        var index = new Option<bool>("--index") { Description = "Print the index (or manifest) the reference points at, without platform selection" };
        Option<string> hostsDir = HostsDirOption();
        var command = new Command("manifest", "Print the image manifest JSON (digest-verified) for a platform");
        command.Arguments.Add(reference);
        command.Options.Add(platform);
        command.Options.Add(index);
        command.Options.Add(hostsDir);
        command.SetAction(async (ParseResult result, CancellationToken cancellationToken) =>
        {
            return await RunAsync(async () =>
            {
                using var client = new RegistryClient(new RegistryClientOptions { HostsDirectory = result.GetValue(hostsDir) });
                ImageReference image = ImageReference.Parse(result.GetValue(reference)!);
                ReadOnlyMemory<byte> content;
                if (result.GetValue(index))
                {
                    content = (await client.GetManifestAsync(image, cancellationToken).ConfigureAwait(false)).Content;
                }
                else
                {
                    string? p = result.GetValue(platform);
                    ResolvedImage resolved = await client.ResolveAsync(image, p is null ? null : Platform.Parse(p), cancellationToken).ConfigureAwait(false);
                    content = resolved.Manifest.Content;
                }

                await using Stream stdout = openStandardOutput();
                await stdout.WriteAsync(content, cancellationToken).ConfigureAwait(false);
                await stdout.WriteAsync("\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
            }).ConfigureAwait(false);
        });
        return command;
    }

    private static Command CreateBlob(Func<Stream> openStandardOutput)
    {
        var reference = new Argument<string>("REF@DIGEST") { Description = "Repository and blob digest, e.g. ghcr.io/org/app@sha256:..." };
        var range = new Option<string?>("--range") { Description = "Inclusive byte range START-END (HTTP Range semantics); default the whole blob, digest-verified" };
        Option<string> hostsDir = HostsDirOption();
        var command = new Command("blob", "Write a blob (or a byte range of it) to standard output");
        command.Arguments.Add(reference);
        command.Options.Add(range);
        command.Options.Add(hostsDir);
        command.SetAction(async (ParseResult result, CancellationToken cancellationToken) =>
        {
            return await RunAsync(async () =>
            {
                BlobLocator blob = BlobLocator.Parse(result.GetValue(reference)!);
                (long Start, long End)? bytes = ParseRange(result.GetValue(range));
                using var client = new RegistryClient(new RegistryClientOptions { HostsDirectory = result.GetValue(hostsDir) });
                await using Stream stdout = openStandardOutput();
                if (bytes is not { } r)
                {
                    await using Stream body = await client.OpenBlobAsync(blob, cancellationToken: cancellationToken).ConfigureAwait(false);
                    await body.CopyToAsync(stdout, CopyChunk, cancellationToken).ConfigureAwait(false);
                    return;
                }

                byte[] buffer = new byte[(int)Math.Min(CopyChunk, r.End - r.Start + 1)];
                for (long offset = r.Start; offset <= r.End; offset += buffer.Length)
                {
                    int length = (int)Math.Min(buffer.Length, r.End - offset + 1);
                    await client.ReadAsync(blob, offset, buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
                    await stdout.WriteAsync(buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
                }
            }).ConfigureAwait(false);
        });
        return command;
    }

    private static (long Start, long End)? ParseRange(string? value)
    {
        if (value is null)
        {
            return null;
        }

        string[] parts = value.Split('-');
        if (parts.Length != 2
            || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out long start)
            || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long end)
            || end < start)
        {
            throw new RegistryException(RegistryErrorKind.InvalidReference, $"invalid --range \"{value}\": expected START-END with START <= END, e.g. 0-1023");
        }

        return (start, end);
    }

    private static async Task<int> RunAsync(Func<Task> action)
    {
        try
        {
            await action().ConfigureAwait(false);
            return 0;
        }
        catch (RegistryException ex)
        {
            await Console.Error.WriteLineAsync($"snapshotter registry: {ex.Kind}: {ex.Message}").ConfigureAwait(false);
            return ex.Kind == RegistryErrorKind.InvalidReference ? 2 : 1;
        }
        catch (FormatException ex)
        {
            // A malformed --platform (the only argument parsed outside the registry client).
            await Console.Error.WriteLineAsync($"snapshotter registry: {RegistryErrorKind.InvalidReference}: {ex.Message}").ConfigureAwait(false);
            return 2;
        }
    }
}
