namespace Snapshotter.Erofs.Building;

/// <summary>The outcome of writing one layer's data blob.</summary>
/// <param name="Digest">The blob's OCI digest, <c>sha256:&lt;hex&gt;</c>.</param>
/// <param name="Size">The blob file size in bytes.</param>
/// <param name="ChunkCount">Chunks stored in this blob (after deduplication); 0 means the blob is not needed.</param>
/// <param name="UncompressedSize">The size of its uncompressed address space (4 KiB aligned).</param>
/// <param name="CompressedSize">The size of the chunk data area.</param>
internal sealed record DataBlobResult(string Digest, long Size, int ChunkCount, ulong UncompressedSize, ulong CompressedSize)
{
    /// <summary>The blob id: the 64 hex characters of <see cref="Digest"/> (the EROFS device tag).</summary>
    public string BlobId => OciDigest.Hex(Digest);

    internal ulong ChunkInfoOffset { get; init; }

    internal ulong ChunkInfoCompressedSize { get; init; }

    internal ulong ChunkInfoUncompressedSize { get; init; }

    internal ChunkCompressor ChunkInfoCompressor { get; init; }
}
