using System.Formats.Tar;
using Snapshotter.Erofs.Building;
using Snapshotter.Oci;

namespace Snapshotter.Erofs.Tests.Infrastructure;

/// <summary>A small two-layer image built in memory: bootstrap bytes plus its data blobs (for fuzzing and unit tests).</summary>
internal sealed record SmallImage(byte[] Bootstrap, List<byte[]> Blobs, ImageBuildOptions Options)
{
    public static async Task<SmallImage> BuildAsync(ChunkCompressor compressor = ChunkCompressor.Zstd, int chunkSize = 16384, ChunkDigester digester = ChunkDigester.Blake3)
    {
        var options = new ImageBuildOptions { Compressor = compressor, ChunkSize = chunkSize, Digester = digester };
        var builder = new ImageBuilder(options);
        var blobs = new List<byte[]>();
        for (int layer = 0; layer < 2; layer++)
        {
            var tar = new MemoryStream();
            using (var t = new TestLayers(tar))
            {
                if (layer == 0)
                {
                    t.Dir("a/", attrs: new Dictionary<string, string> { ["SCHILY.xattr.user.k"] = "v", ["SCHILY.xattr.security.s"] = "sec" });
                    t.File("a/text", "hello world\n");
                    var random = new byte[70_000];
                    new Random(3).NextBytes(random);
                    t.File("a/random", random);
                    t.File("a/empty", []);
                    t.Symlink("a/link", "text");
                    t.Symlink("a/longlink", new string('t', 4050));
                    t.HardLink("a/hard", "a/text");
                    t.Device("a/null", TarEntryType.CharacterDevice, 1, 3);
                    t.Dir("b/");
                    for (int i = 0; i < 300; i++)
                    {
                        t.File($"b/file-{i:D3}-{new string('n', i % 40)}", $"content {i}\n");
                    }
                }
                else
                {
                    t.Whiteout("b/.wh.file-000-");
                    t.File("a/text", "replaced\n");
                    t.File("c/zeros", new byte[50_000]);
                }
            }

            tar.Position = 0;
            var blob = new MemoryStream();
            await builder.AddLayerAsync(tar, blob);
            blobs.Add(blob.ToArray());
        }

        return new SmallImage(builder.BuildBootstrap(), blobs, options);
    }
}
