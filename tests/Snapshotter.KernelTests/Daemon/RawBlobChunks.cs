using System.Security.Cryptography;
using Snapshotter.Cache.Chunks;
using Snapshotter.Oci;

namespace Snapshotter.KernelTests.Daemon;

/// <summary>A chunk table over a raw (uncompressed) blob device such as mkfs.erofs --blobdev writes.</summary>
internal static class RawBlobChunks
{
    public static ChunkTable Build(string blobPath, int chunkSize)
    {
        var data = File.ReadAllBytes(blobPath);
        var count = (data.Length + chunkSize - 1) / chunkSize;
        var entries = new ChunkEntry[count];
        var digests = new byte[count * 32];
        for (var i = 0; i < count; i++)
        {
            var offset = (long)i * chunkSize;
            var size = (int)Math.Min(chunkSize, data.Length - offset);
            entries[i] = new ChunkEntry(offset, size, offset, size, IsCompressed: false);
            SHA256.HashData(data.AsSpan((int)offset, size), digests.AsSpan(i * 32, 32));
        }

        return new ChunkTable(entries, digests, ChunkDigester.Sha256, data.Length, data.Length);
    }
}
