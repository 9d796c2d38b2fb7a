using Snapshotter.Cache.Fetching;
using Snapshotter.Erofs;
using Snapshotter.Erofs.Compression;

namespace Snapshotter.Lazy.Blobs;

/// <summary>Adapts the image format's chunk codecs (zstd, lz4_block, gzip, none) to the fetcher.</summary>
internal sealed class CodecDecompressor(ChunkCompressor compressor) : IChunkDecompressor
{
    public int Decompress(ReadOnlySpan<byte> source, Span<byte> destination) =>
        ChunkCodec.TryDecompress(compressor, source, destination)
            ? destination.Length
            : throw new InvalidDataException($"{compressor} chunk does not decode to {destination.Length} bytes");
}
