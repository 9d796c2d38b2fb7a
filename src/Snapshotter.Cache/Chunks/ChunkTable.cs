using Snapshotter.Oci;

namespace Snapshotter.Cache.Chunks;

/// <summary>
/// A data blob's chunk table, validated once so that the READ path can trust it: chunks sorted by uncompressed
/// offset, 4 KiB aligned, not overlapping, inside the blob's sizes. Optional digest per chunk (of the
/// uncompressed bytes; blake3 or sha256, <see cref="DigestAlgorithm"/>).
/// </summary>
public sealed class ChunkTable
{
    /// <summary>Largest chunk accepted (RAFS allows 4 KiB .. 16 MiB chunks).</summary>
    public const int MaxChunkSize = 16 * 1024 * 1024;

    public const int DigestSize = ChunkDigest.Size;

    private const int PageSize = 4096;

    private readonly ChunkEntry[] _entries;
    private readonly byte[]? _digests;

    /// <summary>Validates and wraps <paramref name="entries"/>; throws <see cref="ChunkTableException"/> naming the problem.</summary>
    /// <param name="entries">Chunks, sorted by uncompressed offset.</param>
    /// <param name="digests">32 bytes per chunk, or null when chunks carry no digest.</param>
    /// <param name="digestAlgorithm">The hash <paramref name="digests"/> were computed with.</param>
    /// <param name="uncompressedSize">The blob's uncompressed size (the cache object's size).</param>
    /// <param name="compressedSize">The stored blob's size (its registry size).</param>
    public ChunkTable(ChunkEntry[] entries, byte[]? digests, ChunkDigester digestAlgorithm, long uncompressedSize, long compressedSize)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (uncompressedSize < 0 || compressedSize < 0)
        {
            throw new ChunkTableException($"negative blob size ({uncompressedSize} uncompressed, {compressedSize} compressed)");
        }

        if (!Enum.IsDefined(digestAlgorithm))
        {
            throw new ChunkTableException($"unknown chunk digest algorithm {digestAlgorithm}");
        }

        if (digests is not null && digests.Length != entries.Length * DigestSize)
        {
            throw new ChunkTableException($"{digests.Length} digest bytes for {entries.Length} chunks (expected {entries.Length * DigestSize})");
        }

        long previousEnd = 0;
        for (var i = 0; i < entries.Length; i++)
        {
            var e = entries[i];
            string? problem =
                e.UncompressedSize <= 0 || e.UncompressedSize > MaxChunkSize ? $"uncompressed size {e.UncompressedSize} outside 1..{MaxChunkSize}"
                : e.CompressedSize <= 0 || e.CompressedSize > MaxChunkSize + (MaxChunkSize / 8) ? $"compressed size {e.CompressedSize} out of range"
                : !e.IsCompressed && e.CompressedSize != e.UncompressedSize ? $"uncompressed chunk with sizes {e.CompressedSize} != {e.UncompressedSize}"
                : (e.UncompressedOffset & (PageSize - 1)) != 0 ? $"uncompressed offset {e.UncompressedOffset} not 4 KiB aligned"
                : e.UncompressedOffset < previousEnd ? $"uncompressed offset {e.UncompressedOffset} overlaps the previous chunk (ends at {previousEnd})"
                : e.UncompressedEnd > uncompressedSize ? $"ends at {e.UncompressedEnd}, past the uncompressed size {uncompressedSize}"
                : e.CompressedOffset < 0 || e.CompressedEnd > compressedSize ? $"compressed range [{e.CompressedOffset}, {e.CompressedEnd}) outside the blob ({compressedSize} bytes)"
                : null;
            if (problem is not null)
            {
                throw new ChunkTableException($"chunk {i}: {problem}");
            }

            previousEnd = e.UncompressedEnd;
        }

        _entries = entries;
        _digests = digests;
        DigestAlgorithm = digestAlgorithm;
        DigestMismatchMessage = ChunkDigest.Name(digestAlgorithm) + " mismatch";
        UncompressedSize = uncompressedSize;
        CompressedSize = compressedSize;
    }

    public int Count => _entries.Length;

    public long UncompressedSize { get; }

    public long CompressedSize { get; }

    public bool HasDigests => _digests is not null;

    /// <summary>The hash of the per-chunk digests.</summary>
    public ChunkDigester DigestAlgorithm { get; }

    /// <summary>"blake3 mismatch" or "sha256 mismatch": what a failed <see cref="VerifyDigest"/> is reported as (no allocation per failure).</summary>
    public string DigestMismatchMessage { get; }

    public ref readonly ChunkEntry this[int index] => ref _entries[index];

    /// <summary>The digest of chunk <paramref name="index"/>'s uncompressed bytes, or empty when there are none.</summary>
    public ReadOnlySpan<byte> GetDigest(int index) =>
        _digests is null ? default : _digests.AsSpan(index * DigestSize, DigestSize);

    /// <summary>
    /// Whether <paramref name="data"/> (chunk <paramref name="index"/>'s uncompressed bytes) hashes to the chunk's digest
    /// with <see cref="DigestAlgorithm"/>; true when the table has no digests. Allocation-free.
    /// </summary>
    public bool VerifyDigest(int index, ReadOnlySpan<byte> data)
    {
        if (_digests is null)
        {
            return true;
        }

        return ChunkDigest.Matches(DigestAlgorithm, data, _digests.AsSpan(index * DigestSize, DigestSize));
    }

    /// <summary>
    /// Finds the chunks overlapping <c>[offset, offset + length)</c> of the uncompressed address space.
    /// Returns false when none does (a gap or beyond the last chunk).
    /// </summary>
    public bool TryFindRange(long offset, long length, out int first, out int last)
    {
        first = last = -1;
        if (length <= 0 || _entries.Length == 0)
        {
            return false;
        }

        var end = offset + length;

        // First chunk whose end is past offset (binary search on the sorted, non-overlapping entries).
        int lo = 0, hi = _entries.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_entries[mid].UncompressedEnd <= offset)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        if (lo == _entries.Length || _entries[lo].UncompressedOffset >= end)
        {
            return false;
        }

        first = lo;
        last = lo;
        while (last + 1 < _entries.Length && _entries[last + 1].UncompressedOffset < end)
        {
            last++;
        }

        return true;
    }
}
