namespace Snapshotter.Cache.Fetching;

/// <summary>Decompresses one chunk (each chunk of a data blob is compressed on its own).</summary>
public interface IChunkDecompressor
{
    /// <summary>
    /// Decompresses <paramref name="source"/> into <paramref name="destination"/> (sized to the chunk's uncompressed
    /// size) and returns the number of bytes written; throws <see cref="InvalidDataException"/> for corrupt input.
    /// </summary>
    int Decompress(ReadOnlySpan<byte> source, Span<byte> destination);
}
