using Snapshotter.Erofs.Conversion;
using Snapshotter.Oci;
using Snapshotter.Registry;

namespace Snapshotter.Lazy.Conversion;

/// <summary>Pushes the converted image to a registry: blobs (skipped when present), then the manifest under the tag.</summary>
internal sealed class RegistryImageSink(RegistryClient client, ImageReference reference) : IImageSink
{
    public Task PutBlobAsync(Descriptor descriptor, Stream content, CancellationToken cancellationToken = default) =>
        client.PushBlobAsync(new BlobLocator(reference, descriptor.Digest), content, cancellationToken);

    public Task PutManifestAsync(Descriptor descriptor, ReadOnlyMemory<byte> manifest, CancellationToken cancellationToken = default) =>
        client.PushManifestAsync(reference, descriptor.MediaType, manifest, cancellationToken);
}
