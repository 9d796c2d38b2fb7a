namespace Snapshotter.Erofs.Conversion;

/// <summary>Where the converter writes the lazily pullable image (an OCI layout today, a registry later).</summary>
public interface IImageSink
{
    /// <summary>Stores a blob whose digest and size the caller already knows.</summary>
    Task PutBlobAsync(Descriptor descriptor, Stream content, CancellationToken cancellationToken = default);

    /// <summary>Stores the manifest and points the sink's tag at it.</summary>
    Task PutManifestAsync(Descriptor descriptor, ReadOnlyMemory<byte> manifest, CancellationToken cancellationToken = default);
}
