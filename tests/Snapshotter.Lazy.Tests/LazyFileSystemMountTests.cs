using Snapshotter.Lazy.Blobs;
using Snapshotter.Lazy.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Snapshotter.Lazy.Tests;

/// <summary>
/// Mounts through the blob-fetch backend on the host kernel (EROFS from regular files with <c>device=</c>), checked
/// with findmnt, stat and the registry's own access log.
/// </summary>
[Collection(RegistryImageCollection.Name)]
public sealed class LazyFileSystemMountTests(RegistryImageFixture fixture, ITestOutputHelper output)
{
    private List<string> DataBlobs => fixture.Converted.Conversion.DataBlobs.Select(b => b.Digest).ToList();

    private Task<int[]> WholeBlobGetsAsync() => Task.WhenAll(DataBlobs.Select(d => fixture.SettledBlobGetsAsync(d, 200)));

    [Fact]
    public async Task MountAsync_ConvertedImage_EveryFileSymlinkXattrWhiteoutAndHardLinkAsInTheSource()
    {
        await using var harness = await LazyHarness.StartAsync(output);

        var mnt = await harness.MountAsync(fixture.Reference);

        Assert.Equal(["erofs"], HostMounts.TypesAt(mnt));
        Assert.True(harness.Lazy.IsMounted(mnt));
        Assert.True(harness.Lazy.IsMounted(mnt + "/"), "IsMounted must not depend on a trailing slash");
        Assert.Equal(1, harness.Lazy.MountedImages);
        Assert.Equal(DataBlobs.Count, harness.Lazy.BlobsInUse);
        TreeAssert.Matches(fixture.Image, mnt);

        // Complete, verified files named after the blobs, and nothing half-written.
        Assert.Equal(DataBlobs.Select(d => d["sha256:".Length..]).Order(StringComparer.Ordinal), harness.BlobFiles());
        Assert.Equal(0, harness.Metrics.DigestFailureCount);
    }

    [Fact]
    public async Task MountAsync_TwoMountsOfOneImage_ShareTheDownloadedBlobs()
    {
        await using var harness = await LazyHarness.StartAsync(output);
        var wholeBefore = await WholeBlobGetsAsync();
        var rangesBefore = await Task.WhenAll(DataBlobs.Select(d => fixture.SettledBlobGetsAsync(d, 206)));

        var image = await harness.ResolveAsync(fixture.Reference);
        var a = harness.NewMountPoint("a");
        var b = harness.NewMountPoint("b");
        await Task.WhenAll(harness.Lazy.MountAsync(image, a).AsTask(), harness.Lazy.MountAsync(image, b).AsTask());

        Assert.True(harness.Lazy.IsMounted(a) && harness.Lazy.IsMounted(b));
        Assert.Equal(2, harness.Lazy.MountedImages);
        Assert.Equal(DataBlobs.Count, harness.Lazy.BlobsInUse);
        var big = LazyTestImage.BigFile;
        Assert.Equal(TreeAssert.ShaOfFile(Path.Combine(a, big)), TreeAssert.ShaOfFile(Path.Combine(b, big)));
        TreeAssert.Matches(fixture.Image, b);

        // Counted on the registry's side: one whole-blob GET and one chunk-table Range GET per blob for both mounts.
        Assert.Equal(wholeBefore.Select(n => n + 1), await WholeBlobGetsAsync());
        Assert.Equal(rangesBefore.Select(n => n + 1), await Task.WhenAll(DataBlobs.Select(d => fixture.SettledBlobGetsAsync(d, 206))));
        Assert.Equal(DataBlobs.Count, harness.Metrics.RegistryRequestCount);
        Assert.Equal(fixture.Converted.Conversion.DataBlobs.Sum(d => d.Size), harness.Metrics.FetchedByteCount);
    }

    [Fact]
    public async Task MountAsync_AfterRestartOnTheSameCache_UsesTheCompleteFilesWithoutDownloading()
    {
        await using var harness = await LazyHarness.StartAsync(output);
        var first = await harness.MountAsync(fixture.Reference);
        await harness.RestartAsync();
        Assert.False(HostMounts.IsMounted(first), "disposing the component must unmount its images");
        var before = await WholeBlobGetsAsync();

        var mnt = await harness.MountAsync(fixture.Reference);

        TreeAssert.Matches(fixture.Image, mnt);
        Assert.Equal(before, await WholeBlobGetsAsync());
    }

    [Fact]
    public async Task CreateAsync_LeftoversOfAnEarlierRun_DeletesPartialAndSparseFilesKeepsCompleteOnes()
    {
        await using var harness = await LazyHarness.StartAsync(output);
        await harness.MountAsync(fixture.Reference);
        var complete = harness.BlobFiles();
        var partial = Path.Combine(harness.BlobDirectory, TestBlobs.Digest(1)["sha256:".Length..] + BlobFileCache.PartialSuffix);
        var sparse = Path.Combine(harness.BlobDirectory, TestBlobs.Digest(2)["sha256:".Length..] + BlobFileCache.SparseSuffix);
        await File.WriteAllTextAsync(partial, "half a download");
        await File.WriteAllTextAsync(sparse, "a lazily filled file");

        await harness.RestartAsync();

        Assert.Equal(complete, harness.BlobFiles());
    }

    [Fact]
    public async Task UnmountAsync_Mounted_UnmountsReleasesBlobsAndASecondCallIsHarmless()
    {
        await using var harness = await LazyHarness.StartAsync(output);
        var mnt = await harness.MountAsync(fixture.Reference);

        await harness.Lazy.UnmountAsync(mnt);

        Assert.False(HostMounts.IsMounted(mnt));
        Assert.False(harness.Lazy.IsMounted(mnt));
        Assert.Equal(0, harness.Lazy.MountedImages);
        Assert.Equal(0, harness.Lazy.BlobsInUse);
        Assert.Empty(Directory.EnumerateFileSystemEntries(mnt));

        await harness.Lazy.UnmountAsync(mnt);
        await harness.Lazy.UnmountAsync(harness.NewMountPoint("never-mounted"));
        await harness.Lazy.UnmountAsync(Path.Combine(harness.Root, "does", "not", "exist"));

        Assert.False(HostMounts.IsMounted(mnt));
        Directory.Delete(mnt);
    }

    [Fact]
    public async Task UnmountAsync_MountPointWithTrailingSlash_UnmountsAndReleases()
    {
        await using var harness = await LazyHarness.StartAsync(output);
        var mnt = await harness.MountAsync(fixture.Reference);
        Assert.True(harness.Lazy.IsMounted(mnt + "/"));

        await harness.Lazy.UnmountAsync(mnt + "/");

        Assert.False(HostMounts.IsMounted(mnt));
        Assert.False(harness.Lazy.IsMounted(mnt));
        Assert.Equal(0, harness.Lazy.MountedImages);
        Assert.Equal(0, harness.Lazy.BlobsInUse);
    }

    [Fact]
    public async Task MountAsync_AtAMountPointItAlreadyServes_FailedPreconditionAndTheFirstMountIntact()
    {
        await using var harness = await LazyHarness.StartAsync(output);
        var image = await harness.ResolveAsync(fixture.Reference);
        var mnt = harness.NewMountPoint();
        await harness.Lazy.MountAsync(image, mnt);

        var e = await Assert.ThrowsAsync<SnapshotterException>(() => harness.Lazy.MountAsync(image, mnt + "/").AsTask());

        Assert.Equal(ErrorKind.FailedPrecondition, e.Kind);
        Assert.Contains(mnt, e.Message);
        Assert.Equal(["erofs"], HostMounts.TypesAt(mnt));
        Assert.Equal(1, harness.Lazy.MountedImages);
        Assert.Equal(image.Layers.Count, harness.Lazy.BlobsInUse);
        TreeAssert.Matches(fixture.Image, mnt);

        await harness.Lazy.UnmountAsync(mnt);
        Assert.False(HostMounts.IsMounted(mnt));
        Assert.Equal(0, harness.Lazy.BlobsInUse);
    }

    [Fact]
    public async Task IsMounted_UnmountedBehindItsBack_FalseAndAMountThereWorksAgain()
    {
        await using var harness = await LazyHarness.StartAsync(output);
        var mnt = await harness.MountAsync(fixture.Reference);
        var image = await harness.Lazy.ResolveImageAsync(Registry.ImageReference.Parse(fixture.Reference));

        // An operator's `umount`: the component still has its record, the kernel has no mount.
        var umount = System.Diagnostics.Process.Start("umount", [mnt])!;
        await umount.WaitForExitAsync();
        Assert.Equal(0, umount.ExitCode);

        Assert.False(harness.Lazy.IsMounted(mnt));
        await harness.Lazy.MountAsync(image, mnt);
        Assert.True(harness.Lazy.IsMounted(mnt));
        Assert.True(HostMounts.IsMounted(mnt));
        Assert.Equal(1, harness.Lazy.MountedImages);
        Assert.Equal(image.Layers.Count, harness.Lazy.BlobsInUse);
    }

    [Fact]
    public async Task UnmountAsync_FileStillOpen_MountDetachedAndTheOpenFileStillReads()
    {
        await using var harness = await LazyHarness.StartAsync(output);
        var mnt = await harness.MountAsync(fixture.Reference);
        var expected = fixture.Image.Files[LazyTestImage.BigFile];
        using var open = File.OpenHandle(Path.Combine(mnt, LazyTestImage.BigFile));

        await harness.Lazy.UnmountAsync(mnt);

        Assert.False(HostMounts.IsMounted(mnt), "a busy mount must be detached from the tree");
        Assert.Equal(0, harness.Lazy.BlobsInUse);
        var buffer = new byte[65536];
        var offset = expected.Length - buffer.Length;
        Assert.Equal(buffer.Length, RandomAccess.Read(open, buffer, offset));
        Assert.True(expected.AsSpan(offset).SequenceEqual(buffer));
    }

    [Fact]
    public async Task UnmountAsync_StaleMountOfAnEarlierRun_Detached()
    {
        HostRequirements.Root();
        await using var harness = await LazyHarness.StartAsync(output);
        var stale = harness.NewMountPoint("stale");
        HostMounts.MountTmpfs(stale);
        HostMounts.MountTmpfs(stale);
        Assert.Equal(["tmpfs", "tmpfs"], HostMounts.TypesAt(stale));
        Assert.False(harness.Lazy.IsMounted(stale));

        await harness.Lazy.UnmountAsync(stale);

        Assert.False(HostMounts.IsMounted(stale));
    }

    [Fact]
    public async Task DisposeAsync_TwoImagesMounted_UnmountsEverything()
    {
        var harness = await LazyHarness.StartAsync(output);
        string a, b;
        try
        {
            a = await harness.MountAsync(fixture.Reference);
            b = await harness.MountAsync(fixture.Reference);
            Assert.True(HostMounts.IsMounted(a) && HostMounts.IsMounted(b));

            await harness.Lazy.DisposeAsync();

            Assert.False(HostMounts.IsMounted(a));
            Assert.False(HostMounts.IsMounted(b));
            Assert.Equal(0, harness.Lazy.MountedImages);
            Assert.Equal(0, harness.Lazy.BlobsInUse);
        }
        finally
        {
            await harness.DisposeAsync();
        }
    }

    [Fact]
    public async Task PruneAsync_BlobsNeitherLiveNorInUse_DeletedTheRestKept()
    {
        await using var harness = await LazyHarness.StartAsync(output);
        var mnt = await harness.MountAsync(fixture.Reference);
        var stray = TestBlobs.Digest(77)["sha256:".Length..];
        await File.WriteAllTextAsync(Path.Combine(harness.BlobDirectory, stray), "a blob no snapshot references");
        var all = harness.BlobFiles();

        // Mounted: every blob of the image is in use, only the stray file goes.
        await harness.Lazy.PruneAsync(new HashSet<string>());
        Assert.Equal(all.Where(f => f != stray), harness.BlobFiles());
        TreeAssert.Matches(fixture.Image, mnt);

        // Unmounted: only what the snapshots still reference stays.
        await harness.Lazy.UnmountAsync(mnt);
        var live = DataBlobs[0];
        await harness.Lazy.PruneAsync(new HashSet<string> { live });

        Assert.Equal([live["sha256:".Length..]], harness.BlobFiles());
    }

    [Fact]
    public async Task MountAsync_MountPointMissing_FailedPreconditionNamingItAndNothingHeld()
    {
        await using var harness = await LazyHarness.StartAsync(output);
        var image = await harness.ResolveAsync(fixture.Reference);
        var missing = Path.Combine(harness.Root, "no", "such", "dir");

        var e = await Assert.ThrowsAsync<SnapshotterException>(() => harness.Lazy.MountAsync(image, missing).AsTask());

        output.WriteLine(e.Message);
        Assert.Equal(ErrorKind.FailedPrecondition, e.Kind);
        Assert.Contains(missing, e.Message);
        Assert.Contains(fixture.Reference, e.Message);
        Assert.False(harness.Lazy.IsMounted(missing));
        Assert.Equal(0, harness.Lazy.MountedImages);
        Assert.Equal(0, harness.Lazy.BlobsInUse);
    }

    [Fact]
    public async Task MountAsync_LayerWithInvalidReference_InvalidArgumentAndNothingHeld()
    {
        await using var harness = await LazyHarness.StartAsync(output);
        var image = await harness.ResolveAsync(fixture.Reference);
        var layers = image.Layers.ToArray();
        layers[^1] = layers[^1] with { ImageRef = "::not a reference::" };

        var e = await Assert.ThrowsAsync<SnapshotterException>(() => harness.Lazy.MountAsync(image with { Layers = layers }, harness.NewMountPoint()).AsTask());

        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
        Assert.Equal(0, harness.Lazy.BlobsInUse);
    }
}
