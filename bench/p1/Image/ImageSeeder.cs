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

    private const string WarmMarker = "p1-warm-seeded";

    /// <summary>Repository of the warm-up image, ordinary (gzip) form.</summary>
    public const string WarmOrdinaryRepository = "p1/warm-ordinary";

    /// <summary>Repository of the warm-up image, lazily pullable form.</summary>
    public const string WarmLazyRepository = "p1/warm-lazy";

    public static async Task<SeededImages> EnsureAsync(
        string storage, GeneratedImage image, string warmLayout, string workDirectory, TextWriter log, CancellationToken cancellationToken = default)
    {
        var marker = Path.Combine(storage, Marker);
        var warmMarker = Path.Combine(storage, WarmMarker);
        if (File.Exists(marker) && File.Exists(warmMarker))
        {
            return JsonSerializer.Deserialize<SeededImages>(await File.ReadAllTextAsync(marker, cancellationToken)) ?? throw new InvalidDataException($"{marker} is empty");
        }

        if (!File.Exists(marker) && Directory.Exists(storage))
        {
            Directory.Delete(storage, recursive: true);
        }

        Directory.CreateDirectory(storage);
        await using var registry = await RegistryServer.StartAsync(storage, Path.Combine(workDirectory, "seed-registry"), cancellationToken);
        using var client = new RegistryClient(new RegistryClientOptions { HostsDirectory = null });
        var host = $"127.0.0.1:{registry.EndPoint.Port}";
        if (!File.Exists(warmMarker))
        {
            log.WriteLine($"registry: pushing the warm-up image to {host}/{WarmOrdinaryRepository} and {host}/{WarmLazyRepository}...");
            await PushAsync(client, warmLayout, BenchImageSpec.Tag, $"{host}/{WarmOrdinaryRepository}:{BenchImageSpec.Tag}", cancellationToken);
            await ConvertAsync(client, warmLayout, BenchImageSpec.Tag, $"{host}/{WarmLazyRepository}:{BenchImageSpec.Tag}", workDirectory, cancellationToken);
            await File.WriteAllTextAsync(warmMarker, string.Empty, cancellationToken);
        }

        if (File.Exists(marker))
        {
            return JsonSerializer.Deserialize<SeededImages>(await File.ReadAllTextAsync(marker, cancellationToken)) ?? throw new InvalidDataException($"{marker} is empty");
        }

        const string ordinaryRepo = "p1/ordinary", lazyRepo = "p1/lazy";
        log.WriteLine($"registry: pushing the ordinary image to {host}/{ordinaryRepo}:{image.Tag}...");
        await PushAsync(client, image.LayoutPath, image.Tag, $"{host}/{ordinaryRepo}:{image.Tag}", cancellationToken);
        log.WriteLine($"registry: converting into {host}/{lazyRepo}:{image.Tag}...");
        var (result, options) = await ConvertAsync(client, image.LayoutPath, image.Tag, $"{host}/{lazyRepo}:{image.Tag}", workDirectory, cancellationToken);
        var seeded = new SeededImages(ordinaryRepo, lazyRepo, image.Tag, [.. result.DataBlobs.Select(b => b.Size)], result.BootstrapLayer.Size, options.Compressor.ToString(), options.ChunkSize);
        await File.WriteAllTextAsync(marker, JsonSerializer.Serialize(seeded), cancellationToken);
        return seeded;
    }

    /// <summary>Pushes the image of an OCI layout as it is (blobs, then the manifest under the tag).</summary>
    private static async Task PushAsync(RegistryClient client, string layoutPath, string tag, string target, CancellationToken cancellationToken)
    {
        var reference = Snapshotter.Registry.ImageReference.Parse(target);
        var layout = new OciLayout(layoutPath, tag);
        var (manifestType, manifest) = await ReadManifestAsync(layoutPath, tag, cancellationToken);
        var resolved = await layout.ResolveAsync(null, cancellationToken);
        foreach (var blob in resolved.Layers.Append(resolved.Config))
        {
            await using var stream = await layout.OpenBlobAsync(blob, cancellationToken);
            await client.PushBlobAsync(new BlobLocator(reference, blob.Digest), stream, cancellationToken);
        }

        await client.PushManifestAsync(reference, manifestType, manifest, cancellationToken);
    }

    /// <summary>Converts with the converter's defaults (what <c>snapshotter convert</c> does) and pushes the result.</summary>
    private static async Task<(ConversionResult Result, ImageBuildOptions Options)> ConvertAsync(
        RegistryClient client, string layoutPath, string tag, string target, string workDirectory, CancellationToken cancellationToken)
    {
        var options = new ImageBuildOptions();
        var reference = Snapshotter.Registry.ImageReference.Parse(target);
        var result = await ImageConverter.ConvertAsync(new OciLayout(layoutPath, tag), new RegistryImageSink(client, reference), options, workDirectory: workDirectory, cancellationToken: cancellationToken);
        return (result, options);
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
