namespace Snapshotter.Erofs.Building;

/// <summary>Where one chunk of a file lives: which layer blob, its chunk-info index and uncompressed offset.</summary>
internal readonly record struct ChunkRef(int BlobSlot, int ChunkInfoIndex, ulong UncompressedOffset);
