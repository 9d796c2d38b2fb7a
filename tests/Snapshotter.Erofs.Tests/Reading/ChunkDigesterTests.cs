using System.Buffers.Binary;
using Snapshotter.Erofs.Format;
using Snapshotter.Erofs.Reading;
using Snapshotter.Erofs.Tests.Infrastructure;
using Snapshotter.Oci;

namespace Snapshotter.Erofs.Tests.Reading;

/// <summary>The chunk digester is recorded like nydus-image records it, read back per blob, and verification follows it.</summary>
public sealed class ChunkDigesterTests
{
    [Theory]
    [InlineData(ChunkDigester.Blake3, ErofsFormat.RafsFlagDigestBlake3, 0u)]
    [InlineData(ChunkDigester.Sha256, ErofsFormat.RafsFlagDigestSha256, 1u)]
    public async Task Build_EachDigester_RecordsItInTheSuperblockFlagsAndEveryBlobRecord(ChunkDigester digester, ulong flag, uint record)
    {
        SmallImage image = await SmallImage.BuildAsync(digester: digester);

        ulong flags = BinaryPrimitives.ReadUInt64LittleEndian(image.Bootstrap.AsSpan(ErofsFormat.RafsExtSuperOffset + ErofsFieldOffsets.RafsSuper.Flags));
        Assert.Equal(flag, flags & (ErofsFormat.RafsFlagDigestBlake3 | ErofsFormat.RafsFlagDigestSha256));
        Assert.All(BlobRecordOffsets(image.Bootstrap), o => Assert.Equal(record, BinaryPrimitives.ReadUInt32LittleEndian(image.Bootstrap.AsSpan(o + ErofsFieldOffsets.RafsBlob.DigestAlgorithm))));
        using ErofsImage erofs = ErofsImage.Open(new MemorySource(image.Bootstrap));
        Assert.Equal(image.Blobs.Count, erofs.Blobs.Count);
        Assert.All(erofs.Blobs, b => Assert.Equal(digester, b.Digester));
    }

    [Fact]
    public void DefaultOptions_DigestChunksWithSha256() => Assert.Equal(ChunkDigester.Sha256, new ImageBuildOptions().Digester);

    [Theory]
    [InlineData(ChunkDigester.Blake3)]
    [InlineData(ChunkDigester.Sha256)]
    public async Task ReadFile_EachDigester_VerifiesAndReturnsTheOriginalBytes(ChunkDigester digester)
    {
        SmallImage image = await SmallImage.BuildAsync(ChunkCompressor.Zstd, chunkSize: 4096, digester);
        using ErofsImage erofs = ErofsImage.Open(new MemorySource(image.Bootstrap));
        var devices = erofs.Devices.Select((d, i) => (IRandomAccessSource)DataBlob.Open(new MemorySource(image.Blobs[i]), erofs.Blobs[i])).ToList();
        Assert.All(devices, d => Assert.Equal(digester, ((DataBlob)d).Digester));

        byte[] expected = new byte[70_000];
        new Random(3).NextBytes(expected);
        byte[] actual = new byte[expected.Length];
        Assert.Equal(expected.Length, erofs.ReadFile(erofs.Lookup("/a/random")!, 0, actual, devices));
        Assert.Equal(expected, actual);
    }

    [Theory]
    [InlineData(ChunkDigester.Blake3, "chunk 0: blake3 mismatch")]
    [InlineData(ChunkDigester.Sha256, "chunk 0: sha256 mismatch")]
    public async Task ReadAt_CorruptChunk_FailsNamingTheDigester(ChunkDigester digester, string expected)
    {
        SmallImage image = await SmallImage.BuildAsync(ChunkCompressor.None, digester: digester);
        byte[] blob = (byte[])image.Blobs[0].Clone();
        blob[10] ^= 0xFF;
        using DataBlob data = DataBlob.Open(new MemorySource(blob), ChunkCompressor.None, digester);

        var e = Assert.Throws<InvalidImageException>(() => data.ReadAt(0, new byte[4096]));
        Assert.Equal(expected, e.Message);
    }

    [Theory]
    [InlineData(ChunkDigester.Blake3, ChunkDigester.Sha256)]
    [InlineData(ChunkDigester.Sha256, ChunkDigester.Blake3)]
    public async Task ReadAt_IntactChunkCheckedWithTheOtherDigester_Fails(ChunkDigester built, ChunkDigester opened)
    {
        SmallImage image = await SmallImage.BuildAsync(ChunkCompressor.None, digester: built);
        using DataBlob data = DataBlob.Open(new MemorySource(image.Blobs[0]), ChunkCompressor.None, opened);

        var e = Assert.Throws<InvalidImageException>(() => data.ReadAt(0, new byte[4096]));
        Assert.Contains($"{ChunkDigest.Name(opened)} mismatch", e.Message);
    }

    [Fact]
    public async Task Open_UnknownDigestAlgorithmInABlobRecord_ThrowsNamingIt()
    {
        SmallImage image = await SmallImage.BuildAsync();
        byte[] bootstrap = (byte[])image.Bootstrap.Clone();
        int second = BlobRecordOffsets(bootstrap)[1];
        BinaryPrimitives.WriteUInt32LittleEndian(bootstrap.AsSpan(second + ErofsFieldOffsets.RafsBlob.DigestAlgorithm), 7);

        var e = Assert.Throws<InvalidImageException>(() => ErofsImage.Open(new MemorySource(bootstrap)));
        Assert.Equal("blob 1 digest_algo: unknown chunk digest algorithm 7 (known: 0 = blake3, 1 = sha256)", e.Message);
    }

    [Theory]
    [InlineData(ChunkDigester.Blake3, "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85")]
    [InlineData(ChunkDigester.Sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    public void Compute_Abc_GivesTheReferenceDigest(ChunkDigester digester, string hex)
    {
        Span<byte> digest = stackalloc byte[ChunkDigest.Size];
        ChunkDigest.Compute(digester, "abc"u8, digest);
        Assert.Equal(hex, Convert.ToHexStringLower(digest));
    }

    private static int[] BlobRecordOffsets(byte[] bootstrap)
    {
        ReadOnlySpan<byte> ext = bootstrap.AsSpan(ErofsFormat.RafsExtSuperOffset, ErofsFormat.RafsExtSuperSize);
        int offset = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(ext[ErofsFieldOffsets.RafsSuper.BlobTableOffset..]));
        int size = checked((int)BinaryPrimitives.ReadUInt32LittleEndian(ext[ErofsFieldOffsets.RafsSuper.BlobTableSize..]));
        return Enumerable.Range(0, size / ErofsFormat.RafsBlobRecordSize).Select(i => offset + (i * ErofsFormat.RafsBlobRecordSize)).ToArray();
    }
}
