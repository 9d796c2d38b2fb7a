using System.Text.Json;
using System.Text.Json.Nodes;
using Snapshotter.Erofs;
using Snapshotter.Erofs.Conversion;
using Snapshotter.P1.Benchmarks.Hosting;
using Snapshotter.Registry;

namespace Snapshotter.P1.Benchmarks.Image;

/// <summary>
/// Fills a docker-registry storage directory once with the benchmark image twice: the ordinary image (its gzip layers as
/// generated) and the lazily pullable one (converted by the product's <see cref="ImageConverter"/>, zstd, 1 MiB chunks,
/// the converter's defaults). A marker file records what is there; later runs reuse the storage.
/// </summary>
internal static class ImageSeeder
{
    private const string Marker = "p1-seeded.json";

    public static async Task<SeededImages> EnsureAsync(string storage, GeneratedImage image, string workDirectory, TextWriter log, CancellationToken cancellationToken = default)
    {
        var marker = Path.Combine(storage, Marker);
        if (File.Exists(marker))
        {
            return JsonSerializer.Deserialize<SeededImages>(await File.ReadAllTextAsync(marker, cancellationToken)) ?? throw new InvalidDataException($"{marker} is empty");
        }

        if (Directory.Exists(storage))
        {
            Directory.Delete(storage, recursive: true);
        }

        Directory.CreateDirectory(storage);
        await using var registry = await RegistryServer.StartAsync(storage, Path.Combine(workDirectory, "seed-registry"), cancellationToken);
        using var client = new RegistryClient(new RegistryClientOptions { HostsDirectory = null });
        var host = $"127.0.0.1:{registry.EndPoint.Port}";
        const string ordinaryRepo = "p1/ordinary", lazyRepo = "p1/lazy";

        log.WriteLine($"registry: pushing the ordinary image to {host}/{ordinaryRepo}:{image.Tag}...");
        var ordinary = Snapshotter.Registry.ImageReference.Parse($"{host}/{ordinaryRepo}:{image.Tag}");
        var layout = new OciLayout(image.LayoutPath, image.Tag);
        var (manifestType, manifest) = await ReadManifestAsync(image.LayoutPath, image.Tag, cancellationToken);
        var resolved = await layout.ResolveAsync(null, cancellationToken);
        foreach (var blob in resolved.Layers.Append(resolved.Config))
        {
            await using var stream = await layout.OpenBlobAsync(blob, cancellationToken);
            await client.PushBlobAsync(new BlobLocator(ordinary, blob.Digest), stream, cancellationToken);
        }

        await client.PushManifestAsync(ordinary, manifestType, manifest, cancellationToken);

        log.WriteLine($"registry: converting into {host}/{lazyRepo}:{image.Tag}...");
        var options = new ImageBuildOptions();
        var lazy = Snapshotter.Registry.ImageReference.Parse($"{host}/{lazyRepo}:{image.Tag}");
        var result = await ImageConverter.ConvertAsync(layout, new RegistryImageSink(client, lazy), options, workDirectory: workDirectory, cancellationToken: cancellationToken);
        var seeded = new SeededImages(ordinaryRepo, lazyRepo, image.Tag, [.. result.DataBlobs.Select(b => b.Size)], result.BootstrapLayer.Size, options.Compressor.ToString(), options.ChunkSize);
        await File.WriteAllTextAsync(marker, JsonSerializer.Serialize(seeded), cancellationToken);
        return seeded;
    }

    private static async Task<(string MediaType, byte[] Content)> ReadManifestAsync(string layoutPath, string tag, CancellationToken cancellationToken)
    {
        var index = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(layoutPath, "index.json"), cancellationToken))!;
        var entry = (index["manifests"] as JsonArray)!.First(m => m?["annotations"]?[OciLayout.RefNameAnnotation]?.GetValue<string>() == tag)!;
        var digest = entry["digest"]!.GetValue<string>();
        var bytes = await File.ReadAllBytesAsync(Path.Combine(layoutPath, "blobs", "sha256", digest["sha256:".Length..]), cancellationToken);
        return (entry["mediaType"]!.GetValue<string>(), bytes);
    }
}
