namespace Snapshotter.Registry;

/// <summary>
/// Reads exact byte ranges of blobs. The chunk cache depends on this contract rather than on HTTP;
/// <see cref="RegistryClient"/> implements it against a registry.
/// </summary>
public interface IBlobReader
{
    /// <summary>
    /// Fills <paramref name="destination"/> with the blob's bytes starting at <paramref name="offset"/>: on success
    /// every byte is the blob's; otherwise it throws (never a short read).
    /// </summary>
    /// <exception cref="RegistryException">The range could not be read (see <see cref="RegistryException.Kind"/>).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    Task ReadAsync(BlobLocator blob, long offset, Memory<byte> destination, CancellationToken cancellationToken = default);
}
