using Snapshotter.Fuse.Protocol;
using Snapshotter.Lazy.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Snapshotter.Lazy.Tests.Fuse;

/// <summary>
/// The fuse mode's claim: EROFS is mounted from the local bootstrap, only blob data crosses FUSE. Counted on the FUSE
/// server (its per-opcode request counters) and on the registry (its access log) while the host's find(1) and stat walk
/// the mounted tree.
/// </summary>
[Collection(FuseRegistryCollection.Name)]
public sealed class FuseMetadataTests(FuseRegistryFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task FindAndStat_TenThousandFiles_NoFuseRequest()
    {
        await using var harness = await LazyHarness.StartAsync(output, LazyMode.Fuse, fallBack: false);
        var mnt = await harness.MountAsync(fixture.Reference);
        var statistics = harness.Lazy.FuseStatistics;
        Assert.NotNull(statistics);
        var afterMount = statistics.Snapshot();

        // A fresh EROFS superblock: the first walk reads every inode and directory from the bootstrap file.
        var cold = MetadataWalk.Run(mnt);
        var duringCold = statistics.Since(afterMount);
        var afterCold = statistics.Snapshot();
        var warm = MetadataWalk.Run(mnt);
        var duringWarm = statistics.Since(afterCold);

        Assert.True(cold > FuseRegistryFixture.TinyFiles, $"the walk saw only {cold} entries");
        Assert.Equal(cold, warm);
        Assert.True(duringCold.Count == 0, "the cold walk sent FUSE requests: " + Describe(duringCold));
        Assert.True(duringWarm.Count == 0, "the warm walk sent FUSE requests: " + Describe(duringWarm));
        Assert.Equal(0, statistics.ReadBytes);
    }

    [Fact]
    public async Task ReadOneFile_OfTheSecondLayer_OnlyReadsOfItsBlobFile()
    {
        await using var harness = await LazyHarness.StartAsync(output, LazyMode.Fuse, fallBack: false);
        var mnt = await harness.MountAsync(fixture.Reference);
        var statistics = harness.Lazy.FuseStatistics!;
        MetadataWalk.Run(mnt);
        var before = statistics.Snapshot();
        var mark = fixture.Mark();

        // layer2.bin: random bytes added by the second layer, so its chunks live in the second data blob only.
        var data = await File.ReadAllBytesAsync(Path.Combine(mnt, "layer2.bin"));

        Assert.Equal(TreeAssert.Sha(fixture.Image.Files["layer2.bin"]), TreeAssert.Sha(data));
        var requests = statistics.Since(before);
        Assert.True(requests.Keys.SequenceEqual([FuseOpcode.Read]), "reading one file sent more than READs: " + Describe(requests));
        Assert.Equal(0, statistics.ReadErrors);

        // Which blob file those READs were for: the registry served ranges of the second data blob only, and only the
        // second blob's sparse cache file holds data.
        var blobs = fixture.Converted.Conversion.DataBlobs;
        var served = await fixture.SettledBlobBytesSinceAsync(mark);
        Assert.Equal([blobs[1].Digest], served.Keys);
        Assert.InRange(served[blobs[1].Digest], data.Length / 2, blobs[1].Size);
        foreach (var blob in blobs)
        {
            var sparse = Path.Combine(harness.BlobDirectory, blob.Digest["sha256:".Length..] + ".sparse");
            var allocated = AllocatedBytes(sparse);
            if (blob.Digest == blobs[1].Digest)
            {
                Assert.True(allocated >= data.Length, $"the second blob's cache file holds {allocated} bytes");
            }
            else
            {
                Assert.True(allocated == 0, $"{blob.Digest}: its cache file holds {allocated} bytes though nothing of it was read");
            }
        }
    }

    /// <summary>Bytes a (sparse) file occupies on disk (du(1)); 0 when it does not exist.</summary>
    private static long AllocatedBytes(string path) =>
        File.Exists(path) ? long.Parse(HostTool.Run("du", "--block-size=1", path).Split('\t')[0], System.Globalization.CultureInfo.InvariantCulture) : 0;

    private static string Describe(IReadOnlyDictionary<FuseOpcode, long> requests) =>
        string.Join(", ", requests.Select(r => $"{r.Key} x{r.Value}"));
}
