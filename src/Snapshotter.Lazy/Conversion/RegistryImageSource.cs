using Snapshotter.Erofs.Conversion;
using Snapshotter.Oci;
using Snapshotter.Registry;

namespace Snapshotter.Lazy.Conversion;

/// <summary>Reads the image to convert from a registry (digest-verified manifests and blobs).</summary>
internal sealed class RegistryImageSource(RegistryClient client, ImageReference reference) : IImageSource
{
    public async Task<SourceImage> ResolveAsync(string? platform, CancellationToken cancellationToken = default)
    {
        Platform? wanted;
        try
        {
            wanted = platform is null ? null : Platform.Parse(platform);
        }
        catch (FormatException e)
        {
            throw new RegistryException(RegistryErrorKind.InvalidReference, e.Message, e);
        }

        ResolvedImage resolved = await client.ResolveAsync(reference, wanted, cancellationToken).ConfigureAwait(false);
        return new SourceImage(resolved.Config, resolved.Layers);
    }

    public Task<Stream> OpenBlobAsync(Descriptor descriptor, CancellationToken cancellationToken = default) =>
        client.OpenBlobAsync(new BlobLocator(reference, descriptor.Digest), descriptor.Size, cancellationToken);
}
