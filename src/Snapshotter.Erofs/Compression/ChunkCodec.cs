using System.IO.Compression;
using Snapshotter.Erofs.Interop;

namespace Snapshotter.Erofs.Compression;

/// <summary>
/// Compresses and decompresses single chunks. One instance per thread: it keeps a zstd context
/// so compressing a chunk allocates nothing.
/// </summary>
public sealed unsafe class ChunkCodec : IDisposable
{
    // Nydus and containerd both use zstd's default level.
    private const int ZstdLevel = 3;

    private readonly ChunkCompressor _compressor;
    private SafeZstdHandle? _zstd;

    public ChunkCodec(ChunkCompressor compressor)
    {
        _compressor = compressor;
    }

    public ChunkCompressor Compressor => _compressor;

    /// <summary>The buffer size <see cref="Compress"/> needs for <paramref name="length"/> input bytes.</summary>
    public static int MaxCompressedSize(ChunkCompressor compressor, int length) => compressor switch
    {
        ChunkCompressor.None => length,
        ChunkCompressor.Zstd => checked((int)Libzstd.ZSTD_compressBound((nuint)length)),
        ChunkCompressor.Lz4Block => Liblz4.LZ4_compressBound(length),
        ChunkCompressor.Gzip => checked(length + (length / 100) + 1024),
        _ => throw new ArgumentOutOfRangeException(nameof(compressor)),
    };

    /// <summary>Compresses <paramref name="source"/> into <paramref name="destination"/>; returns the compressed length.</summary>
    public int Compress(ReadOnlySpan<byte> source, byte[] destination)
    {
        switch (_compressor)
        {
            case ChunkCompressor.None:
                source.CopyTo(destination);
                return source.Length;
            case ChunkCompressor.Zstd:
                {
                    _zstd ??= SafeZstdHandle.CreateCompressionContext();
                    fixed (byte* s = source)
                    fixed (byte* d = destination)
                    {
                        nuint n = Libzstd.ZSTD_compressCCtx(_zstd, d, (nuint)destination.Length, s, (nuint)source.Length, ZstdLevel);
                        if (Libzstd.ZSTD_isError(n) != 0)
                        {
                            throw new InvalidOperationException($"ZSTD_compressCCtx failed with code {(long)n}");
                        }

                        return (int)n;
                    }
                }

            case ChunkCompressor.Lz4Block:
                fixed (byte* s = source)
                fixed (byte* d = destination)
                {
                    int n = Liblz4.LZ4_compress_default(s, d, source.Length, destination.Length);
                    if (n <= 0)
                    {
                        throw new InvalidOperationException("LZ4_compress_default failed");
                    }

                    return n;
                }

            case ChunkCompressor.Gzip:
                {
                    using var output = new MemoryStream(destination, 0, destination.Length, writable: true);
                    using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
                    {
                        gzip.Write(source);
                    }

                    return checked((int)output.Position);
                }

            default:
                throw new InvalidOperationException($"unknown chunk compressor {_compressor}");
        }
    }

    /// <summary>
    /// Decompresses <paramref name="source"/> into exactly <paramref name="destination"/>.
    /// Returns false when the input is corrupt or does not decode to exactly that many bytes.
    /// </summary>
    public static bool TryDecompress(ChunkCompressor compressor, ReadOnlySpan<byte> source, Span<byte> destination)
    {
        switch (compressor)
        {
            case ChunkCompressor.None:
                if (source.Length != destination.Length)
                {
                    return false;
                }

                source.CopyTo(destination);
                return true;
            case ChunkCompressor.Zstd:
                fixed (byte* s = source)
                fixed (byte* d = destination)
                {
                    nuint n = Libzstd.ZSTD_decompress(d, (nuint)destination.Length, s, (nuint)source.Length);
                    return Libzstd.ZSTD_isError(n) == 0 && n == (nuint)destination.Length;
                }

            case ChunkCompressor.Lz4Block:
                fixed (byte* s = source)
                fixed (byte* d = destination)
                {
                    int n = Liblz4.LZ4_decompress_safe(s, d, source.Length, destination.Length);
                    return n == destination.Length;
                }

            case ChunkCompressor.Gzip:
                return TryGunzip(source, destination);
            default:
                return false;
        }
    }

    public void Dispose() => _zstd?.Dispose();

    private static bool TryGunzip(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        try
        {
            fixed (byte* s = source)
            {
                using var input = new UnmanagedMemoryStream(s, source.Length);
                using var gzip = new GZipStream(input, CompressionMode.Decompress);
                gzip.ReadExactly(destination);
                Span<byte> probe = stackalloc byte[1];
                return gzip.Read(probe) == 0;
            }
        }
        catch (InvalidDataException)
        {
            return false;
        }
        catch (EndOfStreamException)
        {
            return false;
        }
    }
}
