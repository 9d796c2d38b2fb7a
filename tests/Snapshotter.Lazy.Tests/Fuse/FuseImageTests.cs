using Snapshotter.Lazy.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Snapshotter.Lazy.Tests.Fuse;

/// <summary>
/// A converted multi-layer image mounted in fuse mode on the host kernel: what the kernel shows is the source tree, and
/// the registry (its access log) serves about what was read - a little for one small file, each stored byte about once
/// for everything.
/// </summary>
[Collection(FuseRegistryCollection.Name)]
public sealed class FuseImageTests(FuseRegistryFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task MountAsync_FuseMode_EveryFileMatchesAndTheRegistryServesAboutWhatWasRead()
    {
        await using var harness = await LazyHarness.StartAsync(output, LazyMode.Fuse, fallBack: false);
        Assert.Equal("fuse", harness.Lazy.Mode);
        var mark = fixture.Mark();
        var mnt = await harness.MountAsync(fixture.Reference);
        Assert.Equal(["erofs"], HostMounts.TypesAt(mnt));

        // This host's EROFS (6.18) takes -o directio: blob data is read with O_DIRECT, not cached twice.
        Assert.Contains("directio", HostMounts.OptionsAt(mnt));
        var blobs = fixture.Converted.Conversion.DataBlobs;
        var stored = blobs.Sum(b => b.Size);

        // The bootstrap layer was downloaded whole by the mount: only data blobs are read lazily.
        var dataBlobs = blobs.Select(b => b.Digest).ToHashSet(StringComparer.Ordinal);
        async Task<Dictionary<string, long>> ServedAsync() =>
            (await fixture.SettledBlobBytesSinceAsync(mark)).Where(s => dataBlobs.Contains(s.Key)).ToDictionary(s => s.Key, s => s.Value, StringComparer.Ordinal);

        // One small file: its chunk (then, in the background, the rest of a window of at most 1 MiB of stored bytes)
        // and the chunk tables (every blob's, read at mount).
        const string small = "small/f0100.txt";
        Assert.Equal(TreeAssert.Sha(fixture.Image.Files[small]), TreeAssert.ShaOfFile(Path.Combine(mnt, small)));
        var servedForOne = (await ServedAsync()).Values.Sum();
        output.WriteLine($"one small file: {servedForOne} bytes served of {stored} stored");
        Assert.InRange(servedForOne, fixture.Image.Files[small].Length / 2, (2 * 1024 * 1024) + (stored / 20));

        TreeAssert.Matches(fixture.Image, mnt);

        var served = await ServedAsync();
        output.WriteLine($"every file: {served.Values.Sum()} bytes served of {stored} stored ({string.Join(", ", served.Select(s => $"{s.Key[..15]} {s.Value}"))})");
        Assert.Equal(blobs.Select(b => b.Digest).Order(StringComparer.Ordinal), served.Keys.Order(StringComparer.Ordinal));
        foreach (var blob in blobs)
        {
            // Each chunk fetched once (plus the chunk-table read of the blob's tail), never the blob many times over.
            Assert.InRange(served[blob.Digest], blob.Size / 2, (blob.Size * 11 / 10) + (1024 * 1024));
        }

        Assert.Equal(0, harness.Lazy.FuseStatistics!.ReadErrors);
        Assert.Equal(0, harness.Metrics.DigestFailureCount);
    }

    [Fact]
    public async Task MountAsync_FuseMode_ReadsEachBlobsChunkTableBeforeAnyRead()
    {
        await using var harness = await LazyHarness.StartAsync(output, LazyMode.Fuse, fallBack: false);
        var mark = fixture.Mark();
        await harness.MountAsync(fixture.Reference);

        // Nothing read yet: each data blob served part of itself (its tail: the chunk table, for its first READ to find
        // ready; with 10,000 tiny files the table is most of a blob) ...
        var served = await fixture.SettledBlobBytesSinceAsync(mark);
        foreach (var blob in fixture.Converted.Conversion.DataBlobs)
        {
            Assert.True(served.TryGetValue(blob.Digest, out var bytes), $"no request for blob {blob.Digest}:\n{fixture.Log()}");
            Assert.InRange(bytes, 1, blob.Size - 1);
        }

        // ... and no chunk was fetched.
        Assert.Equal(0, harness.Metrics.RegistryRequestCount);
    }
}
