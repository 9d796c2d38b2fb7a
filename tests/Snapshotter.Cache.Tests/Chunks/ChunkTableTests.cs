using Snapshotter.Cache.Chunks;
using Snapshotter.Oci;

namespace Snapshotter.Cache.Tests.Chunks;

public sealed class ChunkTableTests
{
    private static ChunkTable Table(params (long Off, int Size)[] chunks)
    {
        var stored = 0L;
        var entries = chunks.Select(c =>
        {
            var e = new ChunkEntry(c.Off, c.Size, stored, c.Size, false);
            stored += c.Size;
            return e;
        }).ToArray();
        return new ChunkTable(entries, null, ChunkDigester.Sha256, chunks.Length == 0 ? 0 : chunks[^1].Off + chunks[^1].Size, stored);
    }

    [Theory]
    [InlineData(0, 1, 0, 0)]
    [InlineData(4095, 1, 0, 0)]
    [InlineData(4096, 1, 1, 1)]
    [InlineData(0, 8192, 0, 1)]
    [InlineData(100, 20000, 0, 3)]
    [InlineData(12288, 4096, 3, 3)]
    public void TryFindRange_OverlappingChunks_ReturnsFirstAndLast(long offset, long length, int first, int last)
    {
        var table = Table((0, 4096), (4096, 4096), (8192, 4096), (12288, 10000));

        Assert.True(table.TryFindRange(offset, length, out var f, out var l));

        Assert.Equal((first, last), (f, l));
    }

    [Fact]
    public void TryFindRange_GapOrBeyondEnd_ReturnsFalse()
    {
        var table = Table((0, 100), (8192, 4096));

        Assert.False(table.TryFindRange(4096, 4096, out _, out _));
        Assert.False(table.TryFindRange(12288, 4096, out _, out _));
        Assert.False(table.TryFindRange(0, 0, out _, out _));
        Assert.True(table.TryFindRange(4096, 4097, out var first, out var last));
        Assert.Equal((1, 1), (first, last));
    }

    [Fact]
    public void TryFindRange_ManyChunks_MatchesLinearScan()
    {
        var chunks = Enumerable.Range(0, 500).Select(i => ((long)i * 8192, 4096 + (i % 7))).ToArray();
        var table = Table(chunks);
        var random = new Random(5);
        for (var n = 0; n < 2000; n++)
        {
            var offset = random.NextInt64(0, 500 * 8192);
            var length = random.Next(1, 40000);
            var expected = Enumerable.Range(0, 500).Where(i => chunks[i].Item1 < offset + length && chunks[i].Item1 + chunks[i].Item2 > offset).ToList();

            var found = table.TryFindRange(offset, length, out var first, out var last);

            Assert.Equal(expected.Count > 0, found);
            if (found)
            {
                Assert.Equal((expected[0], expected[^1]), (first, last));
            }
        }
    }

    public static TheoryData<ChunkEntry[], long, long, string> Invalid => new()
    {
        { [new ChunkEntry(100, 10, 0, 10, false)], 4096, 10, "not 4 KiB aligned" },
        { [new ChunkEntry(0, 8192, 0, 8192, false), new ChunkEntry(4096, 10, 8192, 10, false)], 16384, 8202, "overlaps" },
        { [new ChunkEntry(0, 8192, 0, 8192, false)], 4096, 8192, "past the uncompressed size" },
        { [new ChunkEntry(0, 10, 5, 10, true)], 4096, 10, "outside the blob" },
        { [new ChunkEntry(0, 0, 0, 1, true)], 4096, 10, "uncompressed size 0" },
        { [new ChunkEntry(0, 10, 0, 9, false)], 4096, 10, "uncompressed chunk with sizes" },
        { [new ChunkEntry(0, 32 * 1024 * 1024, 0, 10, true)], 1L << 30, 10, "uncompressed size" },
        { [new ChunkEntry(0, 10, -1, 10, true)], 4096, 10, "outside the blob" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Constructor_BrokenTable_ThrowsNamingTheRule(ChunkEntry[] entries, long uncompressed, long stored, string expected)
    {
        var e = Assert.Throws<ChunkTableException>(() => new ChunkTable(entries, null, ChunkDigester.Sha256, uncompressed, stored));

        Assert.Contains(expected, e.Message);
        Assert.StartsWith("chunk ", e.Message);
    }

    [Fact]
    public void Constructor_DigestCountMismatch_Throws()
    {
        var e = Assert.Throws<ChunkTableException>(() => new ChunkTable([new ChunkEntry(0, 10, 0, 10, false)], new byte[31], ChunkDigester.Sha256, 4096, 10));

        Assert.Contains("digest bytes", e.Message);
    }

    [Fact]
    public void Constructor_UnknownDigestAlgorithm_ThrowsNamingIt()
    {
        var e = Assert.Throws<ChunkTableException>(() => new ChunkTable([new ChunkEntry(0, 10, 0, 10, false)], new byte[32], (ChunkDigester)7, 4096, 10));

        Assert.Contains("unknown chunk digest algorithm 7", e.Message);
    }

    [Theory]
    [InlineData(ChunkDigester.Blake3, "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85")]
    [InlineData(ChunkDigester.Sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    public void VerifyDigest_KnownAnswerOfAbc_MatchesOnlyTheTablesAlgorithm(ChunkDigester algorithm, string hex)
    {
        var table = new ChunkTable([new ChunkEntry(0, 3, 0, 3, false)], Convert.FromHexString(hex), algorithm, 4096, 3);

        Assert.True(table.VerifyDigest(0, "abc"u8));
        Assert.False(table.VerifyDigest(0, "abd"u8));
        var other = algorithm == ChunkDigester.Blake3 ? ChunkDigester.Sha256 : ChunkDigester.Blake3;
        Assert.False(new ChunkTable([new ChunkEntry(0, 3, 0, 3, false)], Convert.FromHexString(hex), other, 4096, 3).VerifyDigest(0, "abc"u8));
    }

    [Fact]
    public void VerifyDigest_TableWithoutDigests_AcceptsAnything()
    {
        var table = new ChunkTable([new ChunkEntry(0, 3, 0, 3, false)], null, ChunkDigester.Blake3, 4096, 3);

        Assert.True(table.VerifyDigest(0, "xyz"u8));
    }
}
