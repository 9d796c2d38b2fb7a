namespace Snapshotter.Cache.Chunks;

/// <summary>
/// The hash of a <see cref="ChunkTable"/>'s per-chunk digests (of the uncompressed bytes). The image format's own
/// digester type lives in Snapshotter.Erofs, which this library does not reference; the Lazy layer maps it.
/// </summary>
public enum ChunkDigestAlgorithm
{
    /// <summary>BLAKE3-256 (nydus-image's default).</summary>
    Blake3,

    /// <summary>SHA-256.</summary>
    Sha256,
}
