using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;
using Snapshotter.Erofs.Building;

namespace Snapshotter.Erofs.Conversion;

/// <summary>
/// Converts an OCI image into the Nydus-convention lazily pullable image: one data blob per layer
/// (layers whose chunks all deduplicate away are dropped), then a gzip tar layer holding
/// <c>image/image.boot</c>, and the source config with <c>rootfs.diff_ids</c> rewritten to match.
/// Layers stream through a temp file each; memory stays bounded.
/// </summary>
public static class ImageConverter
{
    internal static async Task<ConversionResult> ConvertAsync(
        IImageSource source,
        IImageSink sink,
        ImageBuildOptions options,
        string? platform = null,
        IProgress<ConversionProgress>? progress = null,
        string? workDirectory = null,
        CancellationToken cancellationToken = default)
    {
        SourceImage image = await source.ResolveAsync(platform, cancellationToken).ConfigureAwait(false);
        string work = Path.Combine(workDirectory ?? Path.GetTempPath(), "erofs-convert-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        try
        {
            var builder = new ImageBuilder(options);
            var blobFiles = new List<string>();
            long sourceBytes = 0;
            for (int i = 0; i < image.Layers.Count; i++)
            {
                Descriptor layer = image.Layers[i];
                string blobPath = Path.Combine(work, $"blob{i}");
                blobFiles.Add(blobPath);
                int index = i;
                Action<long> report = read => progress?.Report(new ConversionProgress(index, image.Layers.Count, read, layer.Size));
                await AddLayerAsync(builder, source, layer, blobPath, report, cancellationToken).ConfigureAwait(false);
                sourceBytes += layer.Size;
            }

            byte[] bootstrap = builder.BuildBootstrap();
            var layers = new List<Descriptor>();
            var diffIds = new List<string>();
            for (int i = 0; i < builder.Layers.Count; i++)
            {
                DataBlobResult blob = builder.Layers[i];
                if (blob.ChunkCount == 0)
                {
                    continue;
                }

                var descriptor = new Descriptor(NydusAnnotations.BlobMediaType, blob.Digest, blob.Size)
                {
                    Annotations = new Dictionary<string, string> { [NydusAnnotations.Blob] = "true" },
                };
                var file = File.OpenRead(blobFiles[i]);
                await using (file.ConfigureAwait(false))
                {
                    await sink.PutBlobAsync(descriptor, file, cancellationToken).ConfigureAwait(false);
                }

                layers.Add(descriptor);
                diffIds.Add(blob.Digest);
            }

            (byte[] bootstrapLayer, string bootstrapDiffId) = PackBootstrap(bootstrap);
            var bootstrapDescriptor = new Descriptor(NydusAnnotations.BootstrapMediaType, OciDigest.Compute(bootstrapLayer), bootstrapLayer.Length)
            {
                Annotations = new Dictionary<string, string>
                {
                    [NydusAnnotations.Bootstrap] = "true",
                    [NydusAnnotations.FsVersion] = "6",
                },
            };
            await sink.PutBlobAsync(bootstrapDescriptor, new MemoryStream(bootstrapLayer), cancellationToken).ConfigureAwait(false);
            layers.Add(bootstrapDescriptor);
            diffIds.Add(bootstrapDiffId);

            byte[] config = await RewriteConfigAsync(source, image.Config, diffIds, cancellationToken).ConfigureAwait(false);
            var configDescriptor = new Descriptor(image.Config.MediaType, OciDigest.Compute(config), config.Length);
            await sink.PutBlobAsync(configDescriptor, new MemoryStream(config), cancellationToken).ConfigureAwait(false);

            var manifest = new JsonObject
            {
                ["schemaVersion"] = 2,
                ["mediaType"] = MediaTypes.OciManifest,
                ["config"] = DescriptorJson.ToJson(configDescriptor),
                ["layers"] = new JsonArray([.. layers.Select(l => (JsonNode)DescriptorJson.ToJson(l))]),
            };
            byte[] manifestBytes = JsonSerializer.SerializeToUtf8Bytes(manifest);
            var manifestDescriptor = new Descriptor(MediaTypes.OciManifest, OciDigest.Compute(manifestBytes), manifestBytes.Length);
            await sink.PutManifestAsync(manifestDescriptor, manifestBytes, cancellationToken).ConfigureAwait(false);
            return new ConversionResult(manifestDescriptor, layers[..^1], bootstrapDescriptor, sourceBytes);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>Converts one source layer into its data blob file, reporting the source bytes read.</summary>
    private static async Task AddLayerAsync(ImageBuilder builder, IImageSource source, Descriptor layer, string blobPath, Action<long> report, CancellationToken cancellationToken)
    {
        // Disposing the progress stream disposes the source stream under it.
        var counted = new ProgressStream(await source.OpenBlobAsync(layer, cancellationToken).ConfigureAwait(false), report);
        await using (counted.ConfigureAwait(false))
        {
            var output = new FileStream(blobPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
            await using (output.ConfigureAwait(false))
            {
                await builder.AddLayerAsync(counted, output, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Extracts <c>image/image.boot</c> from a bootstrap layer (gzip tar) into <paramref name="destination"/>.</summary>
    public static async Task ExtractBootstrapAsync(Stream bootstrapLayer, Stream destination, CancellationToken cancellationToken = default)
    {
        var gzip = new GZipStream(bootstrapLayer, CompressionMode.Decompress, leaveOpen: true);
        await using (gzip.ConfigureAwait(false))
        {
            using var reader = new TarReader(gzip);
            while (await reader.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } entry)
            {
                if (entry.Name.TrimStart('.', '/') == NydusAnnotations.BootstrapPath && entry.DataStream is not null)
                {
                    await entry.DataStream.CopyToAsync(destination, cancellationToken).ConfigureAwait(false);
                    return;
                }
            }
        }

        throw new InvalidImageException($"bootstrap layer has no {NydusAnnotations.BootstrapPath}");
    }

    private static (byte[] Layer, string DiffId) PackBootstrap(byte[] bootstrap)
    {
        using var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
        {
            var dir = new PaxTarEntry(TarEntryType.Directory, "image/") { Mode = (UnixFileMode)0x1ED, ModificationTime = DateTimeOffset.UnixEpoch };
            writer.WriteEntry(dir);
            var entry = new PaxTarEntry(TarEntryType.RegularFile, NydusAnnotations.BootstrapPath)
            {
                Mode = (UnixFileMode)0x1A4,
                ModificationTime = DateTimeOffset.UnixEpoch,
                DataStream = new MemoryStream(bootstrap),
            };
            writer.WriteEntry(entry);
        }

        byte[] tarBytes = tar.ToArray();
        using var gz = new MemoryStream();
        using (var gzip = new GZipStream(gz, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(tarBytes);
        }

        return (gz.ToArray(), OciDigest.Compute(tarBytes));
    }

    private static async Task<byte[]> RewriteConfigAsync(IImageSource source, Descriptor descriptor, List<string> diffIds, CancellationToken cancellationToken)
    {
        if (descriptor.Size > 16 * 1024 * 1024)
        {
            throw new InvalidImageException($"config {descriptor.Digest} of {descriptor.Size} bytes is too large");
        }

        Stream stream = await source.OpenBlobAsync(descriptor, cancellationToken).ConfigureAwait(false);
        JsonNode config;
        await using (stream.ConfigureAwait(false))
        {
            try
            {
                config = await JsonNode.ParseAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false) ?? new JsonObject();
            }
            catch (JsonException e)
            {
                throw new InvalidImageException($"config {descriptor.Digest}: malformed JSON: {e.Message}", e);
            }
        }

        // containerd computes chain ids from diff_ids; they must describe the new layers.
        config["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = new JsonArray(diffIds.Select(d => (JsonNode)JsonValue.Create(d)!).ToArray()) };
        return JsonSerializer.SerializeToUtf8Bytes(config);
    }

}
