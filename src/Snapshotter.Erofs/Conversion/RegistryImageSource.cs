using Snapshotter.Registry;

namespace Snapshotter.Erofs.Conversion;

/// <summary>Reads the image to convert from a registry (digest-verified manifests and blobs).</summary>
public sealed class RegistryImageSource(RegistryClient client, Registry.ImageReference reference) : IImageSource
{
    public async Task<SourceImage> ResolveAsync(string? platform, CancellationToken cancellationToken = default)
    {
        var resolved = await client.ResolveAsync(reference, platform is null ? null : Platform.Parse(platform), cancellationToken).ConfigureAwait(false);
        return new SourceImage(ToOci(resolved.Config), resolved.Layers.Select(ToOci).ToArray());
    }

    public Task<Stream> OpenBlobAsync(OciDescriptor descriptor, CancellationToken cancellationToken = default) =>
        client.OpenBlobAsync(new BlobLocator(reference, descriptor.Digest), descriptor.Size, cancellationToken);

    private static OciDescriptor ToOci(Descriptor descriptor) =>
        new(descriptor.MediaType, descriptor.Digest, descriptor.Size)
        {
            Annotations = descriptor.Annotations.Count == 0 ? null : descriptor.Annotations,
        };
}
