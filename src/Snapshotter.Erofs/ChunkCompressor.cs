namespace Snapshotter.Erofs;

/// <summary>
/// How each chunk of a data blob is compressed. The numeric values are the ones Nydus writes in
/// the RAFS v6 blob table (<c>compress::Algorithm</c>).
/// </summary>
public enum ChunkCompressor
{
    /// <summary>Chunks are stored as they are.</summary>
    None = 0,

    /// <summary>LZ4 block format (system <c>liblz4.so.1</c>).</summary>
    Lz4Block = 1,

    /// <summary>A gzip member per chunk.</summary>
    Gzip = 2,

    /// <summary>A zstd frame per chunk (system <c>libzstd.so.1</c>). The default.</summary>
    Zstd = 3,
}
