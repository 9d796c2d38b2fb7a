using System.Text;
using System.Text.Json;
using Snapshotter.Oci;

namespace Snapshotter.Registry.Tests.Infrastructure;

/// <summary>A synthetic image (random layers, config, manifest) for one platform, pushed with the client under test.</summary>
internal sealed record TestImage(Platform Platform, byte[] Config, IReadOnlyList<byte[]> Layers, byte[] Manifest)
{
    public string ManifestDigest => OciDigest.Compute(Manifest);

    public string ConfigDigest => OciDigest.Compute(Config);

    public static TestImage Create(Platform platform, int seed, params int[] layerSizes)
    {
        var random = new Random(seed);
        var layers = layerSizes.Select(size =>
        {
            byte[] data = new byte[size];
            random.NextBytes(data);
            return data;
        }).ToList();
        byte[] config = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
        {
            architecture = platform.Architecture,
            os = platform.Os,
            rootfs = new { type = "layers", diff_ids = layers.Select(l => OciDigest.Compute(l)).ToArray() },
        }));
        byte[] manifest = JsonSerializer.SerializeToUtf8Bytes(new
        {
            schemaVersion = 2,
            mediaType = MediaTypes.OciManifest,
            config = new { mediaType = MediaTypes.OciConfig, digest = OciDigest.Compute(config), size = config.Length },
            layers = layers.Select(l => new { mediaType = MediaTypes.OciLayerTar, digest = OciDigest.Compute(l), size = l.Length }).ToArray(),
            annotations = new Dictionary<string, string> { ["test.seed"] = seed.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        });
        return new TestImage(platform, config, layers, manifest);
    }

    /// <summary>Builds an OCI index over several platform images.</summary>
    public static byte[] CreateIndex(params TestImage[] images) => JsonSerializer.SerializeToUtf8Bytes(new
    {
        schemaVersion = 2,
        mediaType = MediaTypes.OciIndex,
        manifests = images.Select(i => new
        {
            mediaType = MediaTypes.OciManifest,
            digest = i.ManifestDigest,
            size = i.Manifest.Length,
            platform = i.Platform.Variant is null
                ? (object)new { architecture = i.Platform.Architecture, os = i.Platform.Os }
                : new { architecture = i.Platform.Architecture, os = i.Platform.Os, variant = i.Platform.Variant },
        }).ToArray(),
    });

    /// <summary>Pushes blobs then the manifest (by digest, and by <paramref name="tag"/> when given).</summary>
    public async Task PushAsync(RegistryClient client, ImageReference repository, string? tag = null)
    {
        await client.PushBlobAsync(repository.Blob(ConfigDigest), new MemoryStream(Config));
        foreach (byte[] layer in Layers)
        {
            await client.PushBlobAsync(repository.Blob(OciDigest.Compute(layer)), new MemoryStream(layer));
        }

        await client.PushManifestAsync(tag is null ? repository.WithDigest(ManifestDigest) : repository.WithTag(tag), MediaTypes.OciManifest, Manifest);
    }
}
