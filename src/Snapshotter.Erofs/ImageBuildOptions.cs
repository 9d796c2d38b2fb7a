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
    /// <see cref="ChunkDigester.Sha256"/>; the blobs' own digests are sha256 either way. Not blake3 (nydus-image's
    /// default, which the reader verifies too): the managed Blake3 package runs unoptimized code for much of a fresh
    /// daemon's first cold read under tiered compilation, and a fresh `mount` read 256 MiB at 0.24-0.28x of curl with
    /// blake3 vs 0.37-0.45x with sha256 (SHA-NI) here (bench/RESULTS.md, FUSE blob files, blake3 A/B).
    /// </summary>
    public ChunkDigester Digester { get; init; } = ChunkDigester.Sha256;

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
