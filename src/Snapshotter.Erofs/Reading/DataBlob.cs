using System.Buffers;
using System.Buffers.Binary;
using Snapshotter.Erofs.Compression;

namespace Snapshotter.Erofs.Reading;

/// <summary>
/// A Nydus-layout data blob (compressed chunks + chunk-info table + blob-meta header + ToC), exposed
/// as its uncompressed address space: the view the kernel's EROFS reads as an extra device.
/// Every table field is validated against the blob's real size before use, and every decoded chunk
/// is checked against its digest from <c>blob.digest</c> (blake3 or sha256, as the bootstrap's blob record says). Not thread-safe (it caches the last decoded
/// chunk): use one instance per reading thread.
/// </summary>
public sealed class DataBlob : IRandomAccessSource, IDisposable
{
    private const int MaxTocSize = 64 * 1024;
    private const long MaxChunkInfoSize = 256L * 1024 * 1024;

    private readonly IRandomAccessSource _source;
    private readonly bool _ownsSource;
    private readonly BlobChunkInfo[] _chunks;
    private readonly int[] _byOffset;
    private readonly byte[]? _digests;
    private byte[]? _cache;
    private int _cachedChunk = -1;
    private byte[]? _compressedBuffer;

    private DataBlob(IRandomAccessSource source, bool ownsSource, ChunkCompressor compressor, ChunkDigester digester)
    {
        _source = source;
        _ownsSource = ownsSource;
        Compressor = compressor;
        Digester = digester;
        (_chunks, _digests) = ReadTables();
        _byOffset = Enumerable.Range(0, _chunks.Length).OrderBy(i => _chunks[i].UncompressedOffset).ToArray();
        ulong end = 0;
        foreach (BlobChunkInfo c in _chunks)
        {
            end = Math.Max(end, c.UncompressedOffset + c.UncompressedSize);
        }

        Length = (long)((end + ErofsFormat.BlockSize - 1) & ~(ulong)(ErofsFormat.BlockSize - 1));
    }

    /// <summary>How the chunks are compressed (the blob itself does not say; the bootstrap's blob table does).</summary>
    public ChunkCompressor Compressor { get; }

    /// <summary>How the chunk digests are computed (the blob itself does not say either; the blob record does).</summary>
    public ChunkDigester Digester { get; }

    /// <summary>The chunk-info table.</summary>
    public IReadOnlyList<BlobChunkInfo> Chunks => _chunks;

    /// <summary>The <see cref="Digester"/> hash of each chunk's uncompressed bytes (32 bytes per chunk, chunk order), or null when the blob has none.</summary>
    public ReadOnlyMemory<byte>? ChunkDigests => _digests;

    /// <summary>The size of the uncompressed address space (4 KiB aligned).</summary>
    public long Length { get; }

    /// <summary>Opens the data blob file at <paramref name="path"/>.</summary>
    public static DataBlob Open(string path, ChunkCompressor compressor, ChunkDigester digester)
    {
        var file = new FileSource(path);
        try
        {
            return new DataBlob(file, ownsSource: true, compressor, digester);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Opens a data blob from any positional source of its compressed bytes.</summary>
    public static DataBlob Open(IRandomAccessSource source, ChunkCompressor compressor, ChunkDigester digester, bool ownsSource = false) => new(source, ownsSource, compressor, digester);

    /// <summary>Opens the data blob that <paramref name="info"/> (its record in the bootstrap's blob table) describes.</summary>
    public static DataBlob Open(IRandomAccessSource source, RafsBlobInfo info, bool ownsSource = false)
    {
        ArgumentNullException.ThrowIfNull(info);
        return new(source, ownsSource, info.Compressor, info.Digester);
    }

    /// <inheritdoc />
    public int ReadAt(long offset, Span<byte> destination)
    {
        if (offset < 0 || offset >= Length)
        {
            return 0;
        }

        int total = (int)Math.Min(destination.Length, Length - offset);
        int done = 0;
        while (done < total)
        {
            long pos = offset + done;
            int slot = FindChunk(pos, out int floor);
            if (slot < 0)
            {
                // Alignment padding between chunks (or before the first one) reads as zeros.
                long next = floor + 1 < _byOffset.Length ? (long)_chunks[_byOffset[floor + 1]].UncompressedOffset : Length;
                int gap = (int)Math.Min(total - done, next - pos);
                destination.Slice(done, gap).Clear();
                done += gap;
                continue;
            }

            int chunkIndex = _byOffset[slot];
            BlobChunkInfo chunk = _chunks[chunkIndex];
            ReadOnlySpan<byte> data = DecodeChunk(chunkIndex);
            int inChunk = (int)(pos - (long)chunk.UncompressedOffset);
            int n = Math.Min(total - done, data.Length - inChunk);
            data.Slice(inChunk, n).CopyTo(destination[done..]);
            done += n;
        }

        return total;
    }

    /// <summary>
    /// Writes the whole uncompressed address space to <paramref name="destination"/>: the plain file the
    /// kernel can use as an EROFS extra device (<c>device=</c>) when the blob is fully present.
    /// </summary>
    public async Task WriteUncompressedAsync(Stream destination, CancellationToken cancellationToken = default)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            for (long pos = 0; pos < Length;)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int n = (int)Math.Min(buffer.Length, Length - pos);
                ReadAt(pos, buffer.AsSpan(0, n));
                await destination.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                pos += n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public void Dispose()
    {
        if (_ownsSource && _source is IDisposable d)
        {
            d.Dispose();
        }
    }

    private ReadOnlySpan<byte> DecodeChunk(int index)
    {
        BlobChunkInfo chunk = _chunks[index];
        if (_cachedChunk == index && _cache is not null)
        {
            return _cache.AsSpan(0, (int)chunk.UncompressedSize);
        }

        _cache ??= new byte[_chunks.Max(c => c.UncompressedSize)];
        _cachedChunk = -1;
        Span<byte> output = _cache.AsSpan(0, (int)chunk.UncompressedSize);
        if (chunk.IsCompressed)
        {
            _compressedBuffer ??= new byte[_chunks.Max(c => c.CompressedSize)];
            Span<byte> input = _compressedBuffer.AsSpan(0, (int)chunk.CompressedSize);
            ReadExact((long)chunk.CompressedOffset, input, $"chunk {index}");
            if (!ChunkCodec.TryDecompress(Compressor, input, output))
            {
                throw new InvalidImageException($"chunk {index}: {Compressor} data does not decode to {chunk.UncompressedSize} bytes");
            }
        }
        else
        {
            ReadExact((long)chunk.CompressedOffset, output, $"chunk {index}");
        }

        if (_digests is not null && !ChunkDigest.Matches(Digester, output, _digests.AsSpan(index * ChunkDigest.Size, ChunkDigest.Size)))
        {
            throw new InvalidImageException($"chunk {index}: {ChunkDigest.Name(Digester)} mismatch");
        }

        _cachedChunk = index;
        return output;
    }

    private int FindChunk(long pos, out int floor)
    {
        int lo = 0, hi = _byOffset.Length - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if ((long)_chunks[_byOffset[mid]].UncompressedOffset <= pos)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        floor = found;
        if (found < 0)
        {
            return -1;
        }

        BlobChunkInfo c = _chunks[_byOffset[found]];
        return pos < (long)(c.UncompressedOffset + c.UncompressedSize) ? found : -1;
    }

    private (BlobChunkInfo[] Chunks, byte[]? Digests) ReadTables()
    {
        long length = _source.Length;
        if (length < BlobLayout.TarHeaderSize + BlobLayout.MetaHeaderSize)
        {
            throw new InvalidImageException($"data blob of {length} bytes is too small to hold a ToC");
        }

        Span<byte> tar = stackalloc byte[BlobLayout.TarHeaderSize];
        ReadExact(length - BlobLayout.TarHeaderSize, tar, "ToC tar header");
        if (BlobLayout.ReadName(tar[..100]) != BlobLayout.TocName)
        {
            throw new InvalidImageException($"data blob does not end with a '{BlobLayout.TocName}' tar header");
        }

        long tocSize = BlobLayout.ParseTarSize(tar);
        if (tocSize <= 0 || tocSize > MaxTocSize || tocSize % BlobLayout.TocEntrySize != 0 || tocSize > length - BlobLayout.TarHeaderSize)
        {
            throw new InvalidImageException($"data blob ToC size {tocSize} is invalid");
        }

        byte[] toc = new byte[tocSize];
        ReadExact(length - BlobLayout.TarHeaderSize - tocSize, toc, "ToC");
        long headerOffset = -1;
        long digestOffset = -1, digestSize = 0;
        for (int i = 0; i < tocSize / BlobLayout.TocEntrySize; i++)
        {
            ReadOnlySpan<byte> e = toc.AsSpan(i * BlobLayout.TocEntrySize, BlobLayout.TocEntrySize);
            string name = BlobLayout.ReadName(e.Slice(8, 16));
            long offset = (long)BinaryPrimitives.ReadUInt64LittleEndian(e[56..]);
            long compressed = (long)BinaryPrimitives.ReadUInt64LittleEndian(e[64..]);
            if (name == BlobLayout.EntryBlobMetaHeader)
            {
                headerOffset = offset;
            }
            else if (name == BlobLayout.EntryBlobDigest)
            {
                digestOffset = offset;
                digestSize = compressed;
            }
        }

        if (headerOffset < 0 || headerOffset > length - BlobLayout.MetaHeaderSize)
        {
            throw new InvalidImageException($"data blob ToC has no valid '{BlobLayout.EntryBlobMetaHeader}' entry");
        }

        byte[] header = new byte[BlobLayout.MetaHeaderSize];
        ReadExact(headerOffset, header, "blob-meta header");
        if (BinaryPrimitives.ReadUInt32LittleEndian(header) != BlobLayout.MetaMagic || BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(BlobLayout.MetaHeaderSize - 4)) != BlobLayout.MetaMagic)
        {
            throw new InvalidImageException("blob-meta header: bad magic");
        }

        uint features = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(4));
        if ((features & 0x8) != 0 || (features & 0x80) != 0 || (features & 0x100) != 0)
        {
            throw new InvalidImageException($"blob-meta header: unsupported features 0x{features:x8} (ZRAN, batch or encryption)");
        }

        ChunkCompressor ciCompressor = ErofsImage.ToCompressor(BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(8)), "blob-meta header ci_compressor");
        uint entries = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(12));
        long ciOffset = (long)BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(16));
        long ciCompressed = (long)BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(24));
        long ciUncompressed = (long)BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(32));
        if (ciOffset < 0 || ciCompressed < 0 || ciOffset > length || ciCompressed > length - ciOffset)
        {
            throw new InvalidImageException($"blob-meta header: chunk-info table [{ciOffset}, +{ciCompressed}) is outside the blob");
        }

        if (ciUncompressed != (long)entries * BlobChunkInfo.Size || ciUncompressed > MaxChunkInfoSize || (ciCompressor == ChunkCompressor.None && ciCompressed != ciUncompressed) || ciUncompressed > (ciCompressed * 256) + 1024)
        {
            throw new InvalidImageException($"blob-meta header: chunk-info table sizes ({entries} entries, {ciCompressed} -> {ciUncompressed} bytes) are inconsistent");
        }

        byte[] compressedTable = new byte[ciCompressed];
        ReadExact(ciOffset, compressedTable, "chunk-info table");
        byte[] table = new byte[ciUncompressed];
        if (!ChunkCodec.TryDecompress(ciCompressor, compressedTable, table))
        {
            throw new InvalidImageException($"chunk-info table does not decode ({ciCompressor})");
        }

        var chunks = new BlobChunkInfo[entries];
        for (int i = 0; i < entries; i++)
        {
            BlobChunkInfo c = BlobChunkInfo.Read(table.AsSpan(i * BlobChunkInfo.Size, BlobChunkInfo.Size), i);
            if (c.UncompressedSize > ErofsFormat.MaxChunkSize || c.CompressedSize > ErofsFormat.MaxChunkSize || (long)c.CompressedOffset > ciOffset - c.CompressedSize
                || (!c.IsCompressed && c.CompressedSize != c.UncompressedSize) || c.CompressedSize == 0
                || c.UncompressedOffset + c.UncompressedSize > (ulong)entries * ErofsFormat.MaxChunkSize)
            {
                throw new InvalidImageException($"chunk-info entry {i}: invalid ranges (compressed [{c.CompressedOffset}, +{c.CompressedSize}), uncompressed +{c.UncompressedSize})");
            }

            chunks[i] = c;
        }

        byte[]? digests = null;
        if (digestOffset >= 0 && digestSize == (long)entries * ChunkDigest.Size && digestOffset <= length - digestSize)
        {
            digests = new byte[digestSize];
            ReadExact(digestOffset, digests, "chunk digests");
        }

        return (chunks, digests);
    }

    private void ReadExact(long offset, Span<byte> destination, string what)
    {
        if (offset < 0 || offset > _source.Length - destination.Length || _source.ReadAt(offset, destination) != destination.Length)
        {
            throw new InvalidImageException($"{what}: bytes [{offset}, +{destination.Length}) are outside the data blob ({_source.Length} bytes)");
        }
    }
}
