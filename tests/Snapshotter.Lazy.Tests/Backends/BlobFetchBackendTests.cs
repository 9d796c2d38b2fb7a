using Microsoft.Extensions.Logging.Abstractions;
using Snapshotter.Telemetry;
using Snapshotter.Lazy.Backends;
using Snapshotter.Lazy.Blobs;
using Snapshotter.Lazy.Images;
using Snapshotter.Lazy.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Snapshotter.Lazy.Tests.Backends;

/// <summary>The blob-fetch backend on its own, in both of its mount modes.</summary>
[Collection(RegistryImageCollection.Name)]
public sealed class BlobFetchBackendTests(RegistryImageFixture fixture, ITestOutputHelper output)
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task MountAsync_EitherMode_TreeMatchesAndDisposeUnmountsAndCleansUp(bool fileBacked)
    {
        if (!fileBacked)
        {
            HostRequirements.LoopControl();
        }

        await using var harness = await LazyHarness.StartAsync(output);
        var image = await harness.ResolveAsync(fixture.Reference);
        var cache = new BlobFileCache(Path.Combine(harness.Root, "backend-cache"));
        using var metrics = new SnapshotterMetrics();
        await using var backend = new BlobFetchBackend(cache, harness.Client, fileBacked, metrics, NullLogger.Instance);
        var resolver = new LazyImageResolver(new LazyBlobRegistry(), harness.Client);
        var lazy = resolver.Open(image);
        var mnt = harness.NewMountPoint(fileBacked ? "files" : "loops");
        var files = lazy.Blobs.Select(cache.CompletePath).Append(image.BootstrapPath).ToList();

        var mount = await backend.MountAsync(lazy, mnt);
        try
        {
            Assert.Equal("blob-fetch", backend.Mode);
            Assert.Equal(["erofs"], HostMounts.TypesAt(mnt));
            Assert.Equal(fileBacked ? 0 : files.Count, HostMounts.LoopDevicesBacking(files).Count);
            Assert.All(lazy.Blobs, b => Assert.True(cache.IsComplete(b), $"{b.Digest} is not complete"));
            TreeAssert.Matches(fixture.Image, mnt);
        }
        finally
        {
            await mount.DisposeAsync();
            await mount.DisposeAsync();
            await resolver.ReleaseAsync(lazy);
        }

        Assert.False(HostMounts.IsMounted(mnt));
        Assert.False(Directory.Exists(cache.LinkDirectory(mnt)));
        for (var i = 0; i < 100 && HostMounts.LoopDevicesBacking(files).Count > 0; i++)
        {
            await Task.Delay(50);
        }

        Assert.Empty(HostMounts.LoopDevicesBacking(files));
        Assert.Equal(image.Layers.Count, metrics.RegistryRequestCount);
    }
}
