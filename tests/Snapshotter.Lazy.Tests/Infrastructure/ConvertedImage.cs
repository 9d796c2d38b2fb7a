using System.Text.Json;
using Snapshotter.Erofs;
using Snapshotter.Erofs.Conversion;
using Snapshotter.Registry;
using RegistryReference = Snapshotter.Registry.ImageReference;

namespace Snapshotter.Lazy.Tests.Infrastructure;

/// <summary>A <see cref="LazyTestImage"/> converted by our converter straight into a registry (zstd chunks).</summary>
internal sealed record ConvertedImage(string Reference, LazyTestImage Image, ConversionResult Conversion, string SourceLayout)
{
    public const int ChunkSize = 1024 * 1024;

    /// <summary>The data blob's hex digest of the layer holding the big file (the first data blob).</summary>
    public OciDescriptor BigBlob => Conversion.DataBlobs[0];

    /// <summary>
    /// Writes <paramref name="image"/> as an OCI layout under <paramref name="work"/>, converts it into
    /// <c>&lt;registryHost&gt;/&lt;repository&gt;:v1</c> and keeps the source layout (for pushing it unconverted).
    /// </summary>
    public static async Task<ConvertedImage> ConvertAsync(string registryHost, string repository, LazyTestImage image, string work)
    {
        var layout = Path.Combine(work, "source-" + repository.Replace('/', '-'));
        image.WriteLayout(layout, "v1");
        var reference = $"{registryHost}/{repository}:v1";
        using var client = new RegistryClient(new RegistryClientOptions { HostsDirectory = null });
        var conversion = await ImageConverter.ConvertAsync(
            new OciLayout(layout, "v1"),
            new RegistryImageSink(client, RegistryReference.Parse(reference)),
            new ImageBuildOptions { Compressor = ChunkCompressor.Zstd, ChunkSize = ChunkSize },
            workDirectory: work);
        return new ConvertedImage(reference, image, conversion, layout);
    }

    /// <summary>Pushes the source image unconverted (an ordinary OCI image) as <paramref name="reference"/>.</summary>
    public async Task PushSourceAsync(string reference)
    {
        using var client = new RegistryClient(new RegistryClientOptions { HostsDirectory = null });
        var target = RegistryReference.Parse(reference);
        using var index = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(SourceLayout, "index.json")));
        var manifestDigest = index.RootElement.GetProperty("manifests")[0].GetProperty("digest").GetString()!;
        var manifest = await File.ReadAllBytesAsync(BlobPath(manifestDigest));
        using var parsed = JsonDocument.Parse(manifest);
        var blobs = parsed.RootElement.GetProperty("layers").EnumerateArray().Append(parsed.RootElement.GetProperty("config"))
            .Select(d => d.GetProperty("digest").GetString()!);
        foreach (var digest in blobs)
        {
            await using var content = File.OpenRead(BlobPath(digest));
            await client.PushBlobAsync(new BlobLocator(target, digest), content);
        }

        await client.PushManifestAsync(target, OciLayout.ManifestMediaType, manifest);
    }

    private string BlobPath(string digest) => Path.Combine(SourceLayout, "blobs", "sha256", digest["sha256:".Length..]);
}
