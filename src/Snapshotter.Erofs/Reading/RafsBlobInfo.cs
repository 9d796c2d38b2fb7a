namespace Snapshotter.Erofs.Reading;

/// <summary>One record of the RAFS v6 blob table in a bootstrap (Nydus <c>RafsV6Blob</c>).</summary>
public sealed record RafsBlobInfo(
    string BlobId,
    uint Index,
    uint ChunkSize,
    uint ChunkCount,
    ChunkCompressor Compressor,
    ChunkDigester Digester,
    uint Features,
    ulong CompressedSize,
    ulong UncompressedSize,
    ChunkCompressor ChunkInfoCompressor,
    ulong ChunkInfoOffset,
    ulong ChunkInfoCompressedSize,
    ulong ChunkInfoUncompressedSize);
