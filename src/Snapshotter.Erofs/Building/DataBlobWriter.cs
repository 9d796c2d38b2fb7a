using System.Buffers;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using Snapshotter.Erofs.Compression;
using Snapshotter.Erofs.Format;

namespace Snapshotter.Erofs.Building;

/// <summary>
/// Writes one Nydus-layout data blob: chunks compressed one by one (batches compressed in parallel
/// while the caller reads the next batch), then the chunk-info table, blob-meta header, chunk digests
/// and the ToC. Memory is bounded by two batches of pooled chunk buffers.
/// </summary>
internal sealed class DataBlobWriter : IDisposable
{
    private const int BatchBytes = 8 * 1024 * 1024;

    private readonly Stream _output;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly ChunkCompressor _compressor;
    private readonly int _chunkSize;
    private readonly List<BlobChunkInfo> _chunks = [];
    private readonly MemoryStream _digests = new();
    private readonly ConcurrentBag<ChunkCodec> _codecs = [];
    private readonly int _batchCapacity;
    private List<Pending> _batch = [];
    private Task<Pending[]>? _inflight;
    private long _written;
    private ulong _nextUncompressed;

    public DataBlobWriter(Stream output, ChunkCompressor compressor, int chunkSize)
    {
        _output = output;
        _compressor = compressor;
        _chunkSize = chunkSize;
        _batchCapacity = Math.Max(2, Math.Min(16, BatchBytes / chunkSize));
    }

    public int ChunkCount => _chunks.Count;

    /// <summary>Queues a chunk; returns its chunk-info index and its 4 KiB aligned uncompressed offset.</summary>
    public (int Index, ulong UncompressedOffset) AddChunk(ReadOnlySpan<byte> data, ReadOnlySpan<byte> sha256)
    {
        int index = _chunks.Count;
        ulong offset = _nextUncompressed;
        _nextUncompressed += (ulong)((data.Length + ErofsFormat.BlockSize - 1) & ~(ErofsFormat.BlockSize - 1));
        if (_nextUncompressed > (1UL << 44))
        {
            throw new InvalidImageException("data blob exceeds the 16 TiB uncompressed address space");
        }

        _chunks.Add(new BlobChunkInfo(offset, (uint)data.Length, 0, 0, false));
        _digests.Write(sha256);
        byte[] input = ArrayPool<byte>.Shared.Rent(data.Length);
        data.CopyTo(input);
        _batch.Add(new Pending(index, input, data.Length));
        if (_batch.Count >= _batchCapacity)
        {
            StartFlush();
        }

        return (index, offset);
    }

    /// <summary>Writes the remaining chunks and the blob's tables; returns the blob's identity.</summary>
    public DataBlobResult Complete()
    {
        StartFlush();
        Drain();
        byte[] table = new byte[_chunks.Count * BlobChunkInfo.Size];
        for (int i = 0; i < _chunks.Count; i++)
        {
            _chunks[i].Write(table.AsSpan(i * BlobChunkInfo.Size));
        }

        // Nydus compresses the chunk-info table with lz4_block by default.
        byte[] ciCompressed = new byte[ChunkCodec.MaxCompressedSize(ChunkCompressor.Lz4Block, table.Length) + 16];
        int ciLength;
        ChunkCompressor ciCompressor = ChunkCompressor.Lz4Block;
        using (var codec = new ChunkCodec(ChunkCompressor.Lz4Block))
        {
            ciLength = table.Length == 0 ? 0 : codec.Compress(table, ciCompressed);
        }

        if (table.Length == 0)
        {
            ciCompressor = ChunkCompressor.None;
        }

        long ciOffset = _written;
        Write(ciCompressed.AsSpan(0, ciLength));
        byte[] header = new byte[BlobLayout.MetaHeaderSize];
        BlobLayout.WriteMetaHeader(header, BlobLayout.FeatureAligned | BlobLayout.FeatureChunkInfoV2 | BlobLayout.FeatureHasToc, ciCompressor, (uint)_chunks.Count, (ulong)ciOffset, (ulong)ciLength, (ulong)table.Length);
        long headerOffset = _written;
        Write(header);
        long digestOffset = _written;
        byte[] digests = _digests.ToArray();
        Write(digests);

        byte[] toc = new byte[3 * BlobLayout.TocEntrySize];
        BlobLayout.WriteTocEntry(toc.AsSpan(0, BlobLayout.TocEntrySize), ciCompressor == ChunkCompressor.None ? BlobLayout.TocCompressionNone : BlobLayout.TocCompressionLz4, BlobLayout.EntryBlobMeta, SHA256.HashData(table), (ulong)ciOffset, (ulong)ciLength, (ulong)table.Length);
        BlobLayout.WriteTocEntry(toc.AsSpan(BlobLayout.TocEntrySize, BlobLayout.TocEntrySize), BlobLayout.TocCompressionNone, BlobLayout.EntryBlobMetaHeader, SHA256.HashData(header), (ulong)headerOffset, (ulong)header.Length, (ulong)header.Length);
        BlobLayout.WriteTocEntry(toc.AsSpan(2 * BlobLayout.TocEntrySize, BlobLayout.TocEntrySize), BlobLayout.TocCompressionNone, BlobLayout.EntryBlobDigest, SHA256.HashData(digests), (ulong)digestOffset, (ulong)digests.Length, (ulong)digests.Length);
        Write(toc);
        byte[] tar = new byte[BlobLayout.TarHeaderSize];
        BlobLayout.WriteTarHeader(tar, BlobLayout.TocName, toc.Length);
        Write(tar);
        _output.Flush();

        string digest = "sha256:" + Convert.ToHexStringLower(_hash.GetHashAndReset());
        return new DataBlobResult(digest, _written, _chunks.Count, _nextUncompressed, (ulong)ciOffset)
        {
            ChunkInfoOffset = (ulong)ciOffset,
            ChunkInfoCompressedSize = (ulong)ciLength,
            ChunkInfoUncompressedSize = (ulong)table.Length,
            ChunkInfoCompressor = ciCompressor,
        };
    }

    public void Dispose()
    {
        try
        {
            _inflight?.GetAwaiter().GetResult();
        }
        catch (Exception)
        {
            // Already reported by the call that failed; disposal only releases buffers.
        }

        foreach (Pending p in _batch)
        {
            ArrayPool<byte>.Shared.Return(p.Input);
        }

        _batch.Clear();
        while (_codecs.TryTake(out ChunkCodec? codec))
        {
            codec.Dispose();
        }

        _hash.Dispose();
    }

    private void StartFlush()
    {
        Drain();
        if (_batch.Count == 0)
        {
            return;
        }

        Pending[] batch = [.. _batch];
        _batch = [];
        _inflight = Task.Run(() => Flush(batch));
    }

    // Applies the finished batch's compressed ranges to the chunk table (on the caller's thread).
    private void Drain()
    {
        if (_inflight is null)
        {
            return;
        }

        Pending[] done = _inflight.GetAwaiter().GetResult();
        _inflight = null;
        foreach (Pending p in done)
        {
            BlobChunkInfo c = _chunks[p.Index];
            _chunks[p.Index] = c with { CompressedOffset = (ulong)p.CompressedOffset, CompressedSize = (uint)p.OutputLength, IsCompressed = p.IsCompressed };
        }
    }

    private Pending[] Flush(Pending[] batch)
    {
        try
        {
            Parallel.For(0, batch.Length, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
            {
                ref Pending p = ref batch[i];
                if (_compressor == ChunkCompressor.None)
                {
                    return;
                }

                if (!_codecs.TryTake(out ChunkCodec? codec))
                {
                    codec = new ChunkCodec(_compressor);
                }

                byte[] output = ArrayPool<byte>.Shared.Rent(ChunkCodec.MaxCompressedSize(_compressor, p.Length));
                int n = codec.Compress(p.Input.AsSpan(0, p.Length), output);
                _codecs.Add(codec);

                // Like Nydus, keep a chunk uncompressed when compression does not pay.
                if (n < p.Length)
                {
                    p.Output = output;
                    p.OutputLength = n;
                    p.IsCompressed = true;
                }
                else
                {
                    ArrayPool<byte>.Shared.Return(output);
                }
            });

            for (int i = 0; i < batch.Length; i++)
            {
                ref Pending p = ref batch[i];
                p.CompressedOffset = _written;
                if (p.IsCompressed)
                {
                    Write(p.Output.AsSpan(0, p.OutputLength));
                }
                else
                {
                    p.OutputLength = p.Length;
                    Write(p.Input.AsSpan(0, p.Length));
                }

                if ((ulong)p.OutputLength > 0xFF_FFFF)
                {
                    throw new InvalidImageException($"chunk {p.Index}: stored size {p.OutputLength} does not fit the 24-bit chunk-info field");
                }
            }

            return batch;
        }
        finally
        {
            foreach (Pending p in batch)
            {
                ArrayPool<byte>.Shared.Return(p.Input);
                if (p.Output is not null)
                {
                    ArrayPool<byte>.Shared.Return(p.Output);
                }
            }
        }
    }

    private void Write(ReadOnlySpan<byte> data)
    {
        _output.Write(data);
        _hash.AppendData(data);
        _written += data.Length;
    }

    private struct Pending(int index, byte[] input, int length)
    {
        public int Index = index;
        public byte[] Input = input;
        public int Length = length;
        public byte[]? Output;
        public int OutputLength;
        public bool IsCompressed;
        public long CompressedOffset;
    }
}
