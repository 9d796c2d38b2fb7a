namespace Snapshotter.Erofs.Conversion;

/// <summary>Where the converter reads an image from (an OCI layout today, a registry later).</summary>
public interface IImageSource
{
    /// <summary>Resolves the image to one platform's manifest (<paramref name="platform"/> like <c>linux/amd64</c>; null = the host's).</summary>
    Task<SourceImage> ResolveAsync(string? platform, CancellationToken cancellationToken = default);

    /// <summary>Opens a blob's content for streaming.</summary>
    Task<Stream> OpenBlobAsync(Descriptor descriptor, CancellationToken cancellationToken = default);
}
