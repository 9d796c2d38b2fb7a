using System.Buffers.Binary;
using Snapshotter.Erofs.Reading;
using Snapshotter.Erofs.Tests.Infrastructure;
using Snapshotter.Oci;

namespace Snapshotter.Erofs.Tests.Reading;

public sealed class ErofsImageTests
{
    [Fact]
    public void Open_BadMagic_ThrowsNamingTheField()
    {
        var e = Assert.Throws<InvalidImageException>(() => ErofsImage.Open(new MemorySource(new byte[8192])));
        Assert.Contains("bad magic", e.Message);
    }

    [Fact]
    public void Open_TruncatedImage_ThrowsNamingTheStructure()
    {
        var e = Assert.Throws<InvalidImageException>(() => ErofsImage.Open(new MemorySource(new byte[1100])));
        Assert.Contains("superblock", e.Message);
    }

    [Fact]
    public async Task Open_CorruptSuperblockChecksum_Throws()
    {
        SmallImage image = await SmallImage.BuildAsync();
        byte[] bootstrap = (byte[])image.Bootstrap.Clone();
        bootstrap[1024 + 64] ^= 1;
        var e = Assert.Throws<InvalidImageException>(() => ErofsImage.Open(new MemorySource(bootstrap)));
        Assert.Contains("checksum", e.Message);
    }

    [Fact]
    public async Task Open_UnknownIncompatFeature_Throws()
    {
        SmallImage image = await SmallImage.BuildAsync();
        byte[] bootstrap = (byte[])image.Bootstrap.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(bootstrap.AsSpan(1024 + 8), BinaryPrimitives.ReadUInt32LittleEndian(bootstrap.AsSpan(1024 + 8)) & ~1u);
        BinaryPrimitives.WriteUInt32LittleEndian(bootstrap.AsSpan(1024 + 80), 0x100);
        var e = Assert.Throws<InvalidImageException>(() => ErofsImage.Open(new MemorySource(bootstrap)));
        Assert.Contains("unsupported incompatible features", e.Message);
    }

    [Fact]
    public async Task ReadFile_DeviceNotProvided_ThrowsNamingTheDevice()
    {
        SmallImage image = await SmallImage.BuildAsync();
        using ErofsImage erofs = ErofsImage.Open(new MemorySource(image.Bootstrap));
        var e = Assert.Throws<InvalidImageException>(() => erofs.ReadFile(erofs.Lookup("/a/random")!, 0, new byte[10]));
        Assert.Contains("device 1", e.Message);
    }

    [Fact]
    public async Task ReadInode_DirectoryTreeAndMetadata_AsBuilt()
    {
        SmallImage image = await SmallImage.BuildAsync();
        using ErofsImage erofs = ErofsImage.Open(new MemorySource(image.Bootstrap));
        Assert.True(erofs.Superblock.IsRafsV6);
        ErofsInode dir = erofs.Lookup("/b")!;
        Assert.Equal(2 + 299, erofs.ReadDirectory(dir).Count);
        ErofsInode longLink = erofs.Lookup("/a/longlink")!;
        Assert.Equal(0, longLink.DataLayout);
        Assert.Equal(new string('t', 4050), erofs.ReadSymlink(longLink));
        Assert.Equal(2, erofs.Lookup("/a/link")!.DataLayout);
        Assert.Equal((1u, 3u), erofs.Lookup("/a/null")!.Device);
        Assert.Equal(["security.s", "user.k"], erofs.ReadXattrs(erofs.Lookup("/a")!).Select(x => x.Name).Order());
        // Layer 1 replaced /a/text, so the old inode keeps only its /a/hard name.
        Assert.Equal(1u, erofs.Lookup("/a/hard")!.LinkCount);
        Assert.NotEqual(erofs.Lookup("/a/text")!.Nid, erofs.Lookup("/a/hard")!.Nid);
        Assert.Null(erofs.Lookup("/b/file-000-"));
    }

    [Fact]
    public async Task DataBlob_CorruptChunkData_FailsDigestCheck()
    {
        SmallImage image = await SmallImage.BuildAsync(ChunkCompressor.None);
        byte[] blob = (byte[])image.Blobs[0].Clone();
        blob[10] ^= 0xFF;
        using DataBlob data = DataBlob.Open(new MemorySource(blob), ChunkCompressor.None, image.Options.Digester);
        var e = Assert.Throws<InvalidImageException>(() => data.ReadAt(0, new byte[4096]));
        Assert.Contains("blake3 mismatch", e.Message);
    }

    [Fact]
    public async Task DataBlob_WithoutToc_Throws()
    {
        SmallImage image = await SmallImage.BuildAsync();
        byte[] blob = image.Blobs[0][..^512];
        var e = Assert.Throws<InvalidImageException>(() => DataBlob.Open(new MemorySource(blob), ChunkCompressor.Zstd, ChunkDigester.Blake3));
        Assert.Contains("rafs.blob.toc", e.Message);
    }
}
