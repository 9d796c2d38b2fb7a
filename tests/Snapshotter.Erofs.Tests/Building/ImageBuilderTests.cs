using System.IO.Compression;
using System.Text;
using Snapshotter.Erofs.Building;
using Snapshotter.Erofs.Compression;
using Snapshotter.Erofs.Reading;
using Snapshotter.Erofs.Tests.Infrastructure;

namespace Snapshotter.Erofs.Tests.Building;

public sealed class ImageBuilderTests
{
    [Theory]
    [InlineData("../../etc/passwd")]
    [InlineData("a/../../escape")]
    public async Task AddLayerAsync_PathEscapingRoot_ThrowsInvalidImage(string path)
    {
        var e = await Assert.ThrowsAsync<InvalidImageException>(() => BuildAsync(t => t.File(path, "x")));
        Assert.Contains("escapes the image root", e.Message);
    }

    [Fact]
    public async Task AddLayerAsync_HardLinkEscapingRoot_ThrowsInvalidImage()
    {
        var e = await Assert.ThrowsAsync<InvalidImageException>(() => BuildAsync(t =>
        {
            t.File("a", "x");
            t.HardLink("b", "../../../a");
        }));
        Assert.Contains("escapes the image root", e.Message);
    }

    [Fact]
    public async Task AddLayerAsync_HardLinkToMissingTarget_ThrowsInvalidImage()
    {
        var e = await Assert.ThrowsAsync<InvalidImageException>(() => BuildAsync(t => t.HardLink("b", "missing")));
        Assert.Contains("missing or a directory", e.Message);
    }

    [Fact]
    public async Task AddLayerAsync_EntryUnderAFile_ThrowsInvalidImage()
    {
        var e = await Assert.ThrowsAsync<InvalidImageException>(() => BuildAsync(t =>
        {
            t.File("f", "x");
            t.File("f/child", "y");
        }));
        Assert.Contains("is not a directory", e.Message);
    }

    [Fact]
    public async Task AddLayerAsync_NameLongerThan255Bytes_ThrowsInvalidImage()
    {
        var e = await Assert.ThrowsAsync<InvalidImageException>(() => BuildAsync(t => t.File(new string('x', 256), "x")));
        Assert.Contains("255 bytes", e.Message);
    }

    [Fact]
    public async Task AddLayerAsync_AbsoluteAndDotPaths_AreContainedUnderTheRoot()
    {
        (ErofsImage image, _) = await BuildAsync(t =>
        {
            t.File("/abs/file", "abs");
            t.File("./dot/./file", "dot");
            t.File("up/../inside", "inside");
        });
        using (image)
        {
            Assert.NotNull(image.Lookup("/abs/file"));
            Assert.NotNull(image.Lookup("/dot/file"));
            Assert.NotNull(image.Lookup("/inside"));
        }
    }

    [Fact]
    public async Task AddLayerAsync_HugePaxHeader_ThrowsInvalidImageWithoutHugeAllocation()
    {
        // A PAX extended header claiming ~8 GiB of attributes, then end of stream.
        byte[] header = new byte[512];
        Encoding.ASCII.GetBytes("PaxHeaders/x", header);
        Encoding.ASCII.GetBytes("0000644\0", header.AsSpan(100));
        Encoding.ASCII.GetBytes("0000000\0", header.AsSpan(108));
        Encoding.ASCII.GetBytes("0000000\0", header.AsSpan(116));
        Encoding.ASCII.GetBytes("77777777777\0", header.AsSpan(124));
        Encoding.ASCII.GetBytes("00000000000\0", header.AsSpan(136));
        header[156] = (byte)'x';
        Encoding.ASCII.GetBytes("ustar\0" + "00", header.AsSpan(257));
        header.AsSpan(148, 8).Fill((byte)' ');
        int sum = header.Sum(b => b);
        Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ", header.AsSpan(148));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var builder = new ImageBuilder();
        await Assert.ThrowsAsync<InvalidImageException>(() => builder.AddLayerAsync(new MemoryStream(header), new MemoryStream()));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 256L << 20);
    }

    [Fact]
    public async Task AddLayerAsync_HugeSizeFieldWithoutData_ThrowsWithoutHugeAllocation()
    {
        // A regular-file header claiming 2^40 bytes (GNU base-256 size) followed by nothing.
        byte[] header = new byte[512];
        Encoding.ASCII.GetBytes("huge", header);
        Encoding.ASCII.GetBytes("0000644\0", header.AsSpan(100));
        Encoding.ASCII.GetBytes("0000000\0", header.AsSpan(108));
        Encoding.ASCII.GetBytes("0000000\0", header.AsSpan(116));
        header[124] = 0x80;
        header[130] = 0x01;
        Encoding.ASCII.GetBytes("00000000000\0", header.AsSpan(136));
        header[156] = (byte)'0';
        Encoding.ASCII.GetBytes("ustar\0" + "00", header.AsSpan(257));
        header.AsSpan(148, 8).Fill((byte)' ');
        int sum = header.Sum(b => b);
        Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ", header.AsSpan(148));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var builder = new ImageBuilder(new ImageBuildOptions { ChunkSize = 4096 });
        var e = await Assert.ThrowsAsync<InvalidImageException>(() => builder.AddLayerAsync(new MemoryStream(header), new MemoryStream()));
        Assert.Contains("huge", e.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64L << 20);
    }

    [Fact]
    public async Task AddLayerAsync_IdenticalChunks_AreStoredOnceWithinAndAcrossLayers()
    {
        byte[] content = new byte[40_000];
        new Random(1).NextBytes(content);
        var builder = new ImageBuilder(new ImageBuildOptions { ChunkSize = 8192 });
        DataBlobResult first = await builder.AddLayerAsync(Tar(t =>
        {
            t.File("one", content);
            t.File("two", content);
        }), new MemoryStream());
        DataBlobResult second = await builder.AddLayerAsync(Tar(t => t.File("three", content)), new MemoryStream());

        Assert.Equal(5, first.ChunkCount);
        Assert.Equal(0, second.ChunkCount);
        using ErofsImage image = ErofsImage.Open(new MemorySource(builder.BuildBootstrap()));
        Assert.Single(image.Devices);
        Assert.Equal(image.ReadChunkIndexes(image.Lookup("/one")!), image.ReadChunkIndexes(image.Lookup("/three")!));
    }

    [Fact]
    public async Task AddLayerAsync_GzipLayer_IsDetectedAndRead()
    {
        MemoryStream tar = Tar(t => t.File("hello", "gzip layer\n"));
        var gz = new MemoryStream();
        using (var gzip = new GZipStream(gz, CompressionLevel.Fastest, leaveOpen: true))
        {
            tar.CopyTo(gzip);
        }

        gz.Position = 0;
        var builder = new ImageBuilder();
        var blob = new MemoryStream();
        await builder.AddLayerAsync(gz, blob);
        Assert.Equal("gzip layer\n", ReadText(builder.BuildBootstrap(), [blob.ToArray()], ChunkCompressor.Zstd, "/hello"));
    }

    [Fact]
    public async Task AddLayerAsync_ZstdLayer_IsDetectedAndRead()
    {
        // Compressed by the zstd command line tool (multi-frame input proves frame boundaries are handled).
        var big = new string('z', 300_000) + "\n";
        MemoryStream tar = Tar(t =>
        {
            t.File("hello", "zstd layer\n");
            t.File("big", big);
        });
        var dir = Directory.CreateTempSubdirectory("zstdlayer").FullName;
        try
        {
            var tarPath = Path.Combine(dir, "layer.tar");
            await File.WriteAllBytesAsync(tarPath, tar.ToArray());
            using (var zstd = System.Diagnostics.Process.Start("zstd", ["-q", "-B65536", "--no-progress", tarPath, "-o", tarPath + ".zst"])!)
            {
                await zstd.WaitForExitAsync();
                Assert.Equal(0, zstd.ExitCode);
            }

            var builder = new ImageBuilder();
            var blob = new MemoryStream();
            await using (var layer = File.OpenRead(tarPath + ".zst"))
            {
                await builder.AddLayerAsync(layer, blob);
            }

            var bootstrap = builder.BuildBootstrap();
            Assert.Equal("zstd layer\n", ReadText(bootstrap, [blob.ToArray()], ChunkCompressor.Zstd, "/hello"));
            Assert.Equal(big, ReadText(bootstrap, [blob.ToArray()], ChunkCompressor.Zstd, "/big"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task AddLayerAsync_TruncatedZstdLayer_ThrowsInvalidData()
    {
        MemoryStream tar = Tar(t => t.File("hello", new string('x', 100_000)));
        var compressed = new byte[ChunkCodec.MaxCompressedSize(ChunkCompressor.Zstd, (int)tar.Length)];
        using var codec = new ChunkCodec(ChunkCompressor.Zstd);
        var length = codec.Compress(tar.ToArray(), compressed);

        var builder = new ImageBuilder();
        await Assert.ThrowsAnyAsync<Exception>(() => builder.AddLayerAsync(new MemoryStream(compressed, 0, length / 2), new MemoryStream()));
    }

    [Fact]
    public async Task AddLayerAsync_WhiteoutsInSameLayer_OnlyHideLowerLayers()
    {
        var builder = new ImageBuilder();
        await builder.AddLayerAsync(Tar(t =>
        {
            t.Dir("d/");
            t.File("d/lower", "lower");
            t.File("d/replaced", "lower");
        }), new MemoryStream());
        await builder.AddLayerAsync(Tar(t =>
        {
            t.File("d/upper", "upper");
            t.Whiteout("d/.wh..wh..opq");
            t.File("d/replaced", "upper");
            t.Whiteout("d/.wh.replaced");
        }), new MemoryStream());
        using ErofsImage image = ErofsImage.Open(new MemorySource(builder.BuildBootstrap()));
        string[] names = image.ReadDirectory(image.Lookup("/d")!).Select(e => e.Name).ToArray();
        Assert.Equal([".", "..", "replaced", "upper"], names);
    }

    [Theory]
    [InlineData(ChunkCompressor.Zstd)]
    [InlineData(ChunkCompressor.Lz4Block)]
    [InlineData(ChunkCompressor.Gzip)]
    [InlineData(ChunkCompressor.None)]
    public async Task BuildBootstrap_EachCompressor_ReaderReturnsOriginalBytes(ChunkCompressor compressor)
    {
        SmallImage image = await SmallImage.BuildAsync(compressor, chunkSize: 4096);
        using ErofsImage erofs = ErofsImage.Open(new MemorySource(image.Bootstrap));
        Assert.Equal(compressor, erofs.Blobs[0].Compressor);
        var devices = image.Blobs.Select(b => (IRandomAccessSource)DataBlob.Open(new MemorySource(b), erofs.Blobs[0])).ToList();
        ErofsInode random = erofs.Lookup("/a/random")!;
        byte[] expected = new byte[70_000];
        new Random(3).NextBytes(expected);
        byte[] actual = new byte[expected.Length];
        Assert.Equal(expected.Length, erofs.ReadFile(random, 0, actual, devices));
        Assert.Equal(expected, actual);
        Assert.Equal("replaced\n", ReadText(image.Bootstrap, image.Blobs, compressor, "/a/text"));
        Assert.Equal("hello world\n", ReadText(image.Bootstrap, image.Blobs, compressor, "/a/hard"));
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(3 * 4096)]
    [InlineData(32 * 1024 * 1024)]
    public void Constructor_InvalidChunkSize_Throws(int chunkSize) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImageBuilder(new ImageBuildOptions { ChunkSize = chunkSize }));

    private static string ReadText(byte[] bootstrap, List<byte[]> blobs, ChunkCompressor compressor, string path)
    {
        using ErofsImage image = ErofsImage.Open(new MemorySource(bootstrap));
        var devices = image.Devices.Select(d => (IRandomAccessSource)DataBlob.Open(new MemorySource(blobs.First(b => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(b)) == d.Tag)), compressor, image.Blobs[0].Digester)).ToList();
        ErofsInode inode = image.Lookup(path)!;
        byte[] data = new byte[inode.Size];
        image.ReadFile(inode, 0, data, devices);
        return Encoding.UTF8.GetString(data);
    }

    private static MemoryStream Tar(Action<TestLayers> write)
    {
        var tar = new MemoryStream();
        using (var t = new TestLayers(tar))
        {
            write(t);
        }

        tar.Position = 0;
        return tar;
    }

    private static async Task<(ErofsImage Image, byte[] Blob)> BuildAsync(Action<TestLayers> write)
    {
        var builder = new ImageBuilder();
        var blob = new MemoryStream();
        await builder.AddLayerAsync(Tar(write), blob);
        return (ErofsImage.Open(new MemorySource(builder.BuildBootstrap())), blob.ToArray());
    }
}
