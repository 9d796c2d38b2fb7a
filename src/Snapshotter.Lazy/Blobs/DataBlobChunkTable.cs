using Snapshotter.Cache.Chunks;
using Snapshotter.Erofs.Reading;

namespace Snapshotter.Lazy.Blobs;

/// <summary>Turns a data blob's RAFS chunk-info table into the fetcher's <see cref="ChunkTable"/>.</summary>
internal static class DataBlobChunkTable
{
    /// <summary>
    /// The blob's chunks sorted by uncompressed offset with their digests alongside (in the blob's digester); a range listed twice
    /// (deduplicated chunks) is kept once. Throws <see cref="ChunkTableException"/> for an inconsistent table.
    /// </summary>
    public static ChunkTable Create(DataBlob blob, long uncompressedSize, long storedSize)
    {
        var order = Enumerable.Range(0, blob.Chunks.Count).OrderBy(i => blob.Chunks[i].UncompressedOffset).ToArray();
        var entries = new ChunkEntry[order.Length];
        var sourceDigests = blob.ChunkDigests;
        var digests = sourceDigests is null ? null : new byte[order.Length * ChunkTable.DigestSize];
        for (var i = 0; i < order.Length; i++)
        {
            var c = blob.Chunks[order[i]];
            entries[i] = new ChunkEntry((long)c.UncompressedOffset, (int)c.UncompressedSize, (long)c.CompressedOffset, (int)c.CompressedSize, c.IsCompressed);
            sourceDigests?.Span.Slice(order[i] * ChunkTable.DigestSize, ChunkTable.DigestSize).CopyTo(digests.AsSpan(i * ChunkTable.DigestSize));
        }

        return new ChunkTable(Dedup(entries, ref digests), digests, blob.Digester, uncompressedSize, storedSize);
    }

    /// <summary>Chunk-info tables may list one uncompressed range twice (deduplicated chunks); keep the first.</summary>
    private static ChunkEntry[] Dedup(ChunkEntry[] entries, ref byte[]? digests)
    {
        var keep = new List<int>(entries.Length);
        for (var i = 0; i < entries.Length; i++)
        {
            if (keep.Count == 0 || entries[i].UncompressedOffset != entries[keep[^1]].UncompressedOffset)
            {
                keep.Add(i);
            }
        }

        if (keep.Count == entries.Length)
        {
            return entries;
        }

        var result = keep.Select(i => entries[i]).ToArray();
        if (digests is not null)
        {
            var old = digests;
            digests = new byte[result.Length * ChunkTable.DigestSize];
            for (var i = 0; i < keep.Count; i++)
            {
                old.AsSpan(keep[i] * ChunkTable.DigestSize, ChunkTable.DigestSize).CopyTo(digests.AsSpan(i * ChunkTable.DigestSize));
            }
        }

        return result;
    }
}
