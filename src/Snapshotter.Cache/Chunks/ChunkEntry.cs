namespace Snapshotter.Cache.Chunks;

/// <summary>One chunk of a data blob: where its bytes live uncompressed (the cache file) and compressed (the registry blob).</summary>
/// <param name="UncompressedOffset">Offset in the blob's uncompressed address space (4 KiB aligned).</param>
/// <param name="UncompressedSize">Uncompressed size in bytes.</param>
/// <param name="CompressedOffset">Offset of the chunk's bytes in the data blob as stored in the registry.</param>
/// <param name="CompressedSize">Size of the chunk's bytes in the stored blob.</param>
/// <param name="IsCompressed">False when the chunk is stored as is (then both sizes are equal).</param>
public readonly record struct ChunkEntry(long UncompressedOffset, int UncompressedSize, long CompressedOffset, int CompressedSize, bool IsCompressed)
{
    /// <summary>End of the chunk in the uncompressed address space (exclusive).</summary>
    public long UncompressedEnd => UncompressedOffset + UncompressedSize;

    /// <summary>End of the chunk in the stored blob (exclusive).</summary>
    public long CompressedEnd => CompressedOffset + CompressedSize;
}
