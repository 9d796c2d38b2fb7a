using Snapshotter.Erofs.Building;
using Snapshotter.Erofs.Reading;
using Snapshotter.Erofs.Tests.Infrastructure;

namespace Snapshotter.Erofs.Tests.Building;

/// <summary>Layer tars written by GNU tar in its own formats (gnu, ustar, posix), read back through the builder and our reader.</summary>
public sealed class LayerTarReaderTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("erofs-tar-").FullName;

    [Theory]
    [InlineData("gnu")]
    [InlineData("ustar")]
    [InlineData("posix")]
    public async Task AddLayerAsync_GnuTarFormats_PreserveNamesOwnersAndContent(string format)
    {
        string root = Path.Combine(_work, "root");
        string deep = Path.Combine(root, new string('d', 90), new string('e', 60));
        Directory.CreateDirectory(deep);
        string longName = new('f', 140);
        File.WriteAllText(Path.Combine(deep, "short"), "short\n");
        File.WriteAllText(Path.Combine(root, longName), "long name\n");
        File.CreateSymbolicLink(Path.Combine(root, "link"), new string('t', 150));
        string tar = Path.Combine(_work, format + ".tar");
        // gnu writes the large uid base-256, posix as a PAX record; ustar is limited to 7 octal digits.
        uint uid = format == "ustar" ? 1_000_000u : 2_000_000_000u;
        var args = new List<string> { "-C", root, "--format=" + format, "--owner=" + uid, "--group=7", "--mtime=@1700000000", "-cf", tar };
        if (format == "ustar")
        {
            // ustar cannot hold the 140-byte name or the 150-byte link target.
            File.Delete(Path.Combine(root, longName));
            File.Delete(Path.Combine(root, "link"));
        }

        args.Add(".");
        Shell.Run("tar", [.. args]);

        var builder = new ImageBuilder();
        var blob = new MemoryStream();
        await using (var input = File.OpenRead(tar))
        {
            await builder.AddLayerAsync(input, blob);
        }

        using ErofsImage image = ErofsImage.Open(new MemorySource(builder.BuildBootstrap()));
        var devices = new List<IRandomAccessSource> { DataBlob.Open(new MemorySource(blob.ToArray()), image.Blobs[0]) };
        string shortPath = $"/{new string('d', 90)}/{new string('e', 60)}/short";
        ErofsInode inode = image.Lookup(shortPath) ?? throw new Xunit.Sdk.XunitException($"{shortPath} missing in {format}");
        Assert.Equal(uid, inode.Uid);
        Assert.Equal(7u, inode.Gid);
        Assert.Equal(1700000000, inode.MtimeSeconds);
        byte[] data = new byte[inode.Size];
        image.ReadFile(inode, 0, data, devices);
        Assert.Equal("short\n", System.Text.Encoding.UTF8.GetString(data));
        if (format != "ustar")
        {
            Assert.Equal(10ul, image.Lookup("/" + longName)!.Size);
            Assert.Equal(new string('t', 150), image.ReadSymlink(image.Lookup("/link")!));
        }
    }

    [Fact]
    public async Task AddLayerAsync_MutatedTars_OnlyInvalidImageException()
    {
        var tar = new MemoryStream();
        using (var t = new TestLayers(tar))
        {
            t.Dir("d/", attrs: new Dictionary<string, string> { ["SCHILY.xattr.user.a"] = "b" });
            t.File("d/one", "first file\n");
            t.File("d/two", new byte[3000]);
            t.Symlink("d/link", "one");
            t.HardLink("d/hard", "d/one");
            t.FileWithBinaryXattr("d/bin", "x"u8.ToArray(), "user.bin", [0xFF, 0x00, 0x7F]);
        }

        byte[] original = tar.ToArray();
        var random = new Random(99);
        int rejected = 0;
        for (int i = 0; i < 1500; i++)
        {
            byte[] mutated = (byte[])original.Clone();
            for (int e = 0, n = 1 + random.Next(3); e < n; e++)
            {
                mutated[random.Next(Math.Min(mutated.Length, 8192))] = (byte)random.Next(256);
            }

            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                var builder = new ImageBuilder(new ImageBuildOptions { ChunkSize = 4096 });
                await builder.AddLayerAsync(new MemoryStream(mutated), new MemoryStream());
                _ = builder.BuildBootstrap();
            }
            catch (InvalidImageException)
            {
                rejected++;
            }
            catch (Exception e)
            {
                Assert.Fail($"case {i}: {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
            }

            Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64L << 20, $"case {i} allocated too much");
        }

        Assert.InRange(rejected, 300, 1500);
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
