using Snapshotter.Lazy.Blobs;
using Snapshotter.Lazy.Tests.Infrastructure;
using Snapshotter.Registry.Tests.Infrastructure;

namespace Snapshotter.Lazy.Tests.Blobs;

public sealed class BlobFileCacheTests : IDisposable
{
    private readonly TempDirectory _dir = new("lazy-tests-filecache");

    public void Dispose() => _dir.Dispose();

    private static string Hex(int n) => TestBlobs.Digest(n)["sha256:".Length..];

    private string[] Names(BlobFileCache cache) => Directory.EnumerateFiles(cache.Directory).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public void Prune_FilesOfEveryKind_KeepsLiveAndInUseDigestsOnly()
    {
        var cache = new BlobFileCache(_dir.Path);
        foreach (var name in new[] { Hex(1), Hex(2), Hex(2) + ".0a1b.partial", Hex(3) + ".sparse", Hex(4), Hex(4) + ".77.partial" })
        {
            File.WriteAllText(Path.Combine(cache.Directory, name), name);
        }

        var deleted = cache.Prune(new HashSet<string> { TestBlobs.Digest(1) }, digest => digest == TestBlobs.Digest(2));

        Assert.Equal(3, deleted);
        Assert.Equal(new[] { Hex(1), Hex(2), Hex(2) + ".0a1b.partial" }.Order(StringComparer.Ordinal), Names(cache));
    }

    [Fact]
    public void DeleteIncomplete_PartialAndSparseFiles_DeletedCompleteFilesKept()
    {
        var cache = new BlobFileCache(_dir.Path);
        var blob = TestBlobs.Create(TestBlobs.Digest(5));
        File.WriteAllText(cache.NewPartialPath(blob), "partial");
        File.WriteAllText(cache.SparsePath(blob), "sparse");
        File.WriteAllText(cache.CompletePath(blob), "complete");

        cache.DeleteIncomplete();

        Assert.Equal([blob.Hex], Names(cache));
    }

    [Fact]
    public void NewPartialPath_TwoDownloads_DistinctFilesOfTheBlob()
    {
        var cache = new BlobFileCache(_dir.Path);
        var blob = TestBlobs.Create(TestBlobs.Digest(6));

        var a = cache.NewPartialPath(blob);
        var b = cache.NewPartialPath(blob);

        Assert.NotEqual(a, b);
        Assert.All([a, b], p =>
        {
            Assert.StartsWith(Path.Combine(cache.Directory, blob.Hex + "."), p);
            Assert.EndsWith(BlobFileCache.PartialSuffix, p);
        });
    }

    [Fact]
    public void IsComplete_FileOfTheDeviceSizeOnly_True()
    {
        var cache = new BlobFileCache(_dir.Path);
        var blob = TestBlobs.Create(TestBlobs.Digest(7));
        Assert.False(cache.IsComplete(blob));

        File.WriteAllBytes(cache.CompletePath(blob), new byte[blob.DeviceSize - 1]);
        Assert.False(cache.IsComplete(blob));

        File.WriteAllBytes(cache.CompletePath(blob), new byte[blob.DeviceSize]);
        Assert.True(cache.IsComplete(blob));
    }

    [Fact]
    public void LinkDirectory_PerMountPoint_StableAndDistinctOutsideTheBlobs()
    {
        var cache = new BlobFileCache(_dir.Path);

        var a = cache.LinkDirectory("/mnt/a");

        Assert.Equal(a, cache.LinkDirectory("/mnt/a"));
        Assert.NotEqual(a, cache.LinkDirectory("/mnt/b"));
        Assert.Equal(Path.Combine(_dir.Path, "links"), Path.GetDirectoryName(a));
    }
}
