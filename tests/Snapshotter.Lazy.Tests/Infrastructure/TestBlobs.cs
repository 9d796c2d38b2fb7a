using System.Security.Cryptography;
using System.Text;
using Snapshotter.Cache.Chunks;
using Snapshotter.Erofs;
using Snapshotter.Erofs.Reading;
using Snapshotter.Lazy.Blobs;
using Snapshotter.Oci;
using Snapshotter.Registry;

namespace Snapshotter.Lazy.Tests.Infrastructure;

/// <summary>Blobs for the reference-count and chunk-table tests (no registry behind them).</summary>
internal static class TestBlobs
{
    public static string Digest(int n) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"blob {n}")));

    public static ChunkTable OneChunkTable() => new([new ChunkEntry(0, 4096, 0, 4096, false)], null, ChunkDigester.Sha256, 4096, 4096);

    public static LazyBlob Create(string digest, Func<LazyBlob, CancellationToken, Task<ChunkTable>>? loadTable = null)
    {
        var hex = digest["sha256:".Length..];
        var info = new RafsBlobInfo(hex, 0, 1 << 20, 1, ChunkCompressor.None, ChunkDigester.Sha256, 0, 4096, 4096, ChunkCompressor.None, 4096, 0, 0);
        return new LazyBlob(
            digest,
            new BlobLocator(ImageReference.Parse("127.0.0.1:1/unused/repo:v1"), digest),
            8192,
            4096,
            info,
            loadTable ?? ((_, _) => Task.FromResult(OneChunkTable())));
    }
}
