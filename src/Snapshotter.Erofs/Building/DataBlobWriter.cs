using System.Buffers;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using Snapshotter.Erofs.Compression;

namespace Snapshotter.Erofs.Building;

/// <summary>
/// Writes one Nydus-layout data blob: chunks compressed one by one, then the chunk-info table,
/// blob-meta header, chunk digests and the ToC. The caller only copies chunk bytes in; a pipeline
/// task hashes and compresses each batch in parallel (while the caller reads the next batch),
/// deduplicates against every chunk seen so far (in order, so results are deterministic), and
/// fills the caller's chunk slots. Memory is bounded by two batches of pooled chunk buffers.
/// </summary>
internal sealed class DataBlobWriter : IDisposable
{
    private const int BatchBytes = 8 * 1024 * 1024;

    // Two batches of inputs and outputs are in flight; the shared pool keeps too few large arrays
    // per size, so without our own pool every chunk would be a fresh LOH allocation.
    private static readonly ArrayPool<byte> Buffers = ArrayPool<byte>.Create(maxArrayLength: 32 * 1024 * 1024, maxArraysPerBucket: 80);

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA2213:Disposable fields should be disposed", Justification = "the caller's blob file: the writer appends to it, the caller closes it")]
    private readonly Stream _output;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly ChunkCompressor _compressor;
    private readonly ChunkDigester _digester;
    private readonly int _blobSlot;
    private readonly Dictionary<Hash256, ChunkRef> _dedup;
    private readonly List<BlobChunkInfo> _chunks = [];
    private readonly MemoryStream _digests = new();
    private readonly ConcurrentBag<ChunkCodec> _codecs = [];
    private readonly int _batchCapacity;
    private List<Pending> _batch = [];
    private Task? _inflight;
    private long _written;
    private ulong _nextUncompressed;

    public DataBlobWriter(Stream output, ChunkCompressor compressor, ChunkDigester digester, int chunkSize, int blobSlot, Dictionary<Hash256, ChunkRef> dedup)
    {
        _output = output;
        _compressor = compressor;
        _digester = digester;
        _blobSlot = blobSlot;
        _dedup = dedup;
        _batchCapacity = Math.Max(2, Math.Min(16, BatchBytes / chunkSize));
    }

    /// <summary>Queues a chunk; its location is written to <c>slots[slot]</c> before <see cref="Complete"/> returns.</summary>
    public void AddChunk(ReadOnlySpan<byte> data, ChunkRef[] slots, int slot)
    {
        byte[] input = Buffers.Rent(data.Length);
        data.CopyTo(input);
        _batch.Add(new Pending(input, data.Length, slots, slot));
        if (_batch.Count >= _batchCapacity)
        {
            StartFlush();
        }
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
        ChunkCompressor ciCompressor = table.Length == 0 ? ChunkCompressor.None : ChunkCompressor.Lz4Block;
        byte[] ciCompressed = new byte[ChunkCodec.MaxCompressedSize(ChunkCompressor.Lz4Block, table.Length) + 16];
        int ciLength = 0;
        if (table.Length > 0)
        {
            using var codec = new ChunkCodec(ChunkCompressor.Lz4Block);
            ciLength = codec.Compress(table, ciCompressed);
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

        byte[] toc = new byte[BlobLayout.TocEntryCount * BlobLayout.TocEntrySize];
        BlobLayout.WriteTocEntry(toc.AsSpan(0, BlobLayout.TocEntrySize), ciCompressor == ChunkCompressor.None ? BlobLayout.TocCompressionNone : BlobLayout.TocCompressionLz4, BlobLayout.EntryBlobMeta, SHA256.HashData(table), (ulong)ciOffset, (ulong)ciLength, (ulong)table.Length);
        BlobLayout.WriteTocEntry(toc.AsSpan(BlobLayout.TocEntrySize, BlobLayout.TocEntrySize), BlobLayout.TocCompressionNone, BlobLayout.EntryBlobMetaHeader, SHA256.HashData(header), (ulong)headerOffset, (ulong)header.Length, (ulong)header.Length);
        BlobLayout.WriteTocEntry(toc.AsSpan(2 * BlobLayout.TocEntrySize, BlobLayout.TocEntrySize), BlobLayout.TocCompressionNone, BlobLayout.EntryBlobDigest, SHA256.HashData(digests), (ulong)digestOffset, (ulong)digests.Length, (ulong)digests.Length);
        Write(toc);
        byte[] tar = new byte[BlobLayout.TarHeaderSize];
        BlobLayout.WriteTarHeader(tar, BlobLayout.TocName, toc.Length);
        Write(tar);
        _output.Flush();

        string digest = OciDigest.FromSha256(_hash.GetHashAndReset());
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
            // Already surfaced by the call that failed; disposal only releases buffers.
        }

        foreach (Pending p in _batch)
        {
            Buffers.Return(p.Input);
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

    private void Drain()
    {
        Task? inflight = _inflight;
        _inflight = null;
        inflight?.GetAwaiter().GetResult();
    }

    private void Flush(Pending[] batch)
    {
        try
        {
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount };
            Parallel.For(0, batch.Length, parallel, i => ChunkDigest.Compute(_digester, batch[i].Input.AsSpan(0, batch[i].Length), batch[i].Digest));

            // Deduplicate in input order so chunk numbering is deterministic.
            for (int i = 0; i < batch.Length; i++)
            {
                ref Pending p = ref batch[i];
                var key = Hash256.From(p.Digest);
                if (_dedup.TryGetValue(key, out ChunkRef existing))
                {
                    p.Slots[p.Slot] = existing;
                    continue;
                }

                var chunk = new ChunkRef(_blobSlot, _chunks.Count, _nextUncompressed);
                _dedup[key] = chunk;
                p.Slots[p.Slot] = chunk;
                p.IsUnique = true;
                _chunks.Add(new BlobChunkInfo(_nextUncompressed, (uint)p.Length, 0, 0, false));
                _digests.Write(p.Digest);
                p.ChunkIndex = chunk.ChunkInfoIndex;
                _nextUncompressed += (ulong)((p.Length + ErofsFormat.BlockSize - 1) & ~(ErofsFormat.BlockSize - 1));
                if (_nextUncompressed > (1UL << 44))
                {
                    throw new InvalidImageException("data blob exceeds the 16 TiB uncompressed address space");
                }
            }

            if (_compressor != ChunkCompressor.None)
            {
                Parallel.For(0, batch.Length, parallel, i => Compress(ref batch[i]));
            }

            for (int i = 0; i < batch.Length; i++)
            {
                ref Pending p = ref batch[i];
                if (!p.IsUnique)
                {
                    continue;
                }

                long offset = _written;
                ReadOnlySpan<byte> stored = p.Output is not null ? p.Output.AsSpan(0, p.OutputLength) : p.Input.AsSpan(0, p.Length);
                if (stored.Length > 0xFF_FFFF)
                {
                    throw new InvalidImageException($"chunk {p.ChunkIndex}: stored size {stored.Length} does not fit the 24-bit chunk-info field");
                }

                Write(stored);
                _chunks[p.ChunkIndex] = _chunks[p.ChunkIndex] with { CompressedOffset = (ulong)offset, CompressedSize = (uint)stored.Length, IsCompressed = p.Output is not null };
            }
        }
        finally
        {
            foreach (Pending p in batch)
            {
                Buffers.Return(p.Input);
                if (p.Output is not null)
                {
                    Buffers.Return(p.Output);
                }
            }
        }
    }

    private void Compress(ref Pending p)
    {
        if (!p.IsUnique)
        {
            return;
        }

        if (!_codecs.TryTake(out ChunkCodec? codec))
        {
            codec = new ChunkCodec(_compressor);
        }

        byte[] output = Buffers.Rent(ChunkCodec.MaxCompressedSize(_compressor, p.Length));
        int n = codec.Compress(p.Input.AsSpan(0, p.Length), output);
        _codecs.Add(codec);

        // Like Nydus, keep a chunk uncompressed when compression does not pay.
        if (n < p.Length)
        {
            p.Output = output;
            p.OutputLength = n;
        }
        else
        {
            Buffers.Return(output);
        }
    }

    private void Write(ReadOnlySpan<byte> data)
    {
        _output.Write(data);
        _hash.AppendData(data);
        _written += data.Length;
    }

    private struct Pending(byte[] input, int length, ChunkRef[] slots, int slot)
    {
        public readonly byte[] Input = input;
        public readonly int Length = length;
        public readonly ChunkRef[] Slots = slots;
        public readonly int Slot = slot;
        public readonly byte[] Digest = new byte[ChunkDigest.Size];
        public bool IsUnique;
        public int ChunkIndex;
        public byte[]? Output;
        public int OutputLength;
    }
}
