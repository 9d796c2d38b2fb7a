namespace Snapshotter.Erofs;

/// <summary>Options of <see cref="Building.ImageBuilder"/> and the converter.</summary>
internal sealed record ImageBuildOptions
{
    /// <summary>The chunk compressor. Defaults to <see cref="ChunkCompressor.Zstd"/>.</summary>
    public ChunkCompressor Compressor { get; init; } = ChunkCompressor.Zstd;

    /// <summary>The chunk size in bytes: a power of two from 4 KiB to 16 MiB. Defaults to 1 MiB.</summary>
    public int ChunkSize { get; init; } = 1024 * 1024;

    /// <summary>
    /// The hash of each chunk in the blobs' <c>blob.digest</c> tables (also the dedup key). Defaults to
    /// <see cref="ChunkDigester.Blake3"/>, like nydus-image; the blobs' own digests stay sha256.
    /// </summary>
    public ChunkDigester Digester { get; init; } = ChunkDigester.Blake3;

    internal void Validate()
    {
        if (ChunkSize < ErofsFormat.MinChunkSize || ChunkSize > ErofsFormat.MaxChunkSize || (ChunkSize & (ChunkSize - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ChunkSize), ChunkSize, "chunk size must be a power of two between 4 KiB and 16 MiB");
        }

        if (!Enum.IsDefined(Compressor))
        {
            throw new ArgumentOutOfRangeException(nameof(Compressor), Compressor, "unknown compressor");
        }

        if (!Enum.IsDefined(Digester))
        {
            throw new ArgumentOutOfRangeException(nameof(Digester), Digester, "unknown chunk digester");
        }
    }
}
