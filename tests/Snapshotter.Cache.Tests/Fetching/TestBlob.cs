using System.IO.Compression;
using System.Security.Cryptography;
using Snapshotter.Cache.Chunks;
using Snapshotter.Oci;

namespace Snapshotter.Cache.Tests.Fetching;

/// <summary>
/// A data blob built in memory the way the converter lays one out: chunks at 4 KiB-aligned uncompressed offsets,
/// each compressed on its own (raw deflate here) and stored back to back, with sha256 (or blake3) digests.
/// </summary>
internal sealed class TestBlob
{
    private TestBlob(byte[] uncompressed, byte[] stored, ChunkTable table)
    {
        Uncompressed = uncompressed;
        Stored = stored;
        Table = table;
    }

    public byte[] Uncompressed { get; }

    public byte[] Stored { get; }

    public ChunkTable Table { get; }

    public static TestBlob Create(int[] chunkSizes, bool compress = true, int seed = 1, ChunkDigester digests = ChunkDigester.Sha256)
    {
        var random = new Random(seed);
        var entries = new ChunkEntry[chunkSizes.Length];
        var digestBytes = new byte[chunkSizes.Length * 32];
        using var stored = new MemoryStream();
        long uncompressedOffset = 0;
        var uncompressed = new MemoryStream();
        for (var i = 0; i < chunkSizes.Length; i++)
        {
            var data = new byte[chunkSizes[i]];
            // Half random, half repetitive so deflate really compresses.
            random.NextBytes(data.AsSpan(0, data.Length / 2));
            if (digests == ChunkDigester.Blake3)
            {
                Blake3.Hasher.Hash(data, digestBytes.AsSpan(i * 32, 32));
            }
            else
            {
                SHA256.HashData(data, digestBytes.AsSpan(i * 32, 32));
            }

            uncompressed.Position = uncompressedOffset;
            uncompressed.Write(data);
            var body = compress ? Deflate(data) : data;
            entries[i] = new ChunkEntry(uncompressedOffset, data.Length, stored.Position, body.Length, compress);
            stored.Write(body);
            uncompressedOffset = (uncompressedOffset + data.Length + 4095) & ~4095L;
        }

        uncompressed.SetLength(uncompressedOffset);
        var table = new ChunkTable(entries, digestBytes, digests, uncompressedOffset, stored.Length);
        return new TestBlob(uncompressed.ToArray(), stored.ToArray(), table);
    }

    private static byte[] Deflate(byte[] data)
    {
        using var output = new MemoryStream();
        using (var deflate = new DeflateStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            deflate.Write(data);
        }

        return output.ToArray();
    }
}
