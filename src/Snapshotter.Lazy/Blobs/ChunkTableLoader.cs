using Snapshotter.Cache.Chunks;
using Snapshotter.Erofs;
using Snapshotter.Erofs.Reading;
using Snapshotter.Registry;

namespace Snapshotter.Lazy.Blobs;

/// <summary>Reads a data blob's chunk table: one Range GET of the blob's tail (chunk-info table onwards).</summary>
internal static class ChunkTableLoader
{
    /// <summary>Largest tail accepted (chunk-info table, blob-meta header, digests and ToC).</summary>
    private const long MaxTail = 256L * 1024 * 1024;

    /// <summary>
    /// Fetches and validates the chunk table of <paramref name="blob"/>. Throws <see cref="SnapshotterException"/>
    /// (FailedPrecondition for a malformed blob, the registry's kind for fetch failures) naming the blob.
    /// </summary>
    public static async Task<ChunkTable> LoadAsync(IBlobReader reader, LazyBlob blob, CancellationToken cancellationToken)
    {
        var tailOffset = (long)blob.Info.ChunkInfoOffset;
        if (tailOffset <= 0 || tailOffset >= blob.StoredSize || blob.StoredSize - tailOffset > MaxTail)
        {
            throw SnapshotterException.FailedPrecondition(
                $"blob {blob.Digest}: chunk-info offset {tailOffset} does not fit the blob ({blob.StoredSize} bytes)");
        }

        var tail = new byte[blob.StoredSize - tailOffset];
        try
        {
            await reader.ReadAsync(blob.Locator, tailOffset, tail, cancellationToken).ConfigureAwait(false);
        }
        catch (RegistryException e)
        {
            throw LazyErrors.FromRegistry(e, $"blob {blob.Locator}: reading its chunk table");
        }

        try
        {
            using var data = DataBlob.Open(new TailSource(blob.StoredSize, tailOffset, tail), blob.Info);
            return DataBlobChunkTable.Create(data, blob.DeviceSize, blob.StoredSize);
        }
        catch (Exception e) when (e is InvalidImageException or ChunkTableException)
        {
            throw new SnapshotterException(ErrorKind.FailedPrecondition, $"blob {blob.Digest}: {e.Message}", e);
        }
    }
}
