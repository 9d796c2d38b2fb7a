using Microsoft.Extensions.Logging.Abstractions;
using Snapshotter.Core.Remote;
using Snapshotter.Lazy.Tests.Infrastructure;
using Snapshotter.Registry;
using Snapshotter.Registry.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Snapshotter.Lazy.Tests;

/// <summary>The component on this host (no /dev/cachefiles) against the real registry: mode choice, layer and image resolution.</summary>
[Collection(RegistryImageCollection.Name)]
public sealed class LazyFileSystemTests(RegistryImageFixture fixture, ITestOutputHelper output)
{
    private static RegistryClientOptions QuickFailing() => new()
    {
        HostsDirectory = null,
        MaxRetries = 1,
        RetryBaseDelay = TimeSpan.FromMilliseconds(10),
        RetryMaxDelay = TimeSpan.FromMilliseconds(50),
        ConnectTimeout = TimeSpan.FromSeconds(2),
        AttemptTimeout = TimeSpan.FromSeconds(5),
        OverallTimeout = TimeSpan.FromSeconds(10),
    };

    [Fact]
    public async Task CreateAsync_AutoOnThisHost_PicksFuseWithReasonNamingCachefiles()
    {
        Assert.False(File.Exists("/dev/cachefiles"), "this test is for the host tier, whose kernel has no /dev/cachefiles (the fscache mode is tested in the VM)");

        await using var harness = await LazyHarness.StartAsync(output, LazyMode.Auto);

        // Linux 6.18 mounts EROFS from regular files and has FUSE: the fuse mode comes before blob-fetch.
        Assert.Equal("fuse", harness.Lazy.Mode);
        Assert.Contains("/dev/cachefiles does not exist", harness.Lazy.ModeReason);
        Assert.Contains("served over FUSE", harness.Lazy.ModeReason);
        Assert.Equal(0, harness.Lazy.MountedImages);
        Assert.Equal(0, harness.Lazy.BlobsInUse);
    }

    [Fact]
    public async Task CreateAsync_AutoWithMissingDevice_ReasonNamesThatDevice()
    {
        HostRequirements.Mounting();
        using var dir = new TempDirectory("lazy-tests");
        using var client = new RegistryClient(new RegistryClientOptions { HostsDirectory = null });
        var statistics = new RemoteStatistics();

        await using var lazy = await LazyFileSystem.CreateAsync(
            new LazyOptions { CacheDirectory = dir.Combine("cache"), CachefilesDevice = dir.Combine("no-cachefiles") }, client, NullLoggerFactory.Instance, statistics: statistics);

        Assert.Equal("fuse", lazy.Mode);
        Assert.Contains(dir.Combine("no-cachefiles") + " does not exist", lazy.ModeReason);

        // Auto mode did not ask for fscache: picking the next mode is no refusal.
        Assert.Equal(0, statistics.Fallbacks(FallbackReason.OnDemandRefused));
    }

    [Fact]
    public async Task CreateAsync_FscacheWithoutFallback_FailedPreconditionWithTheReason()
    {
        HostRequirements.Mounting();
        using var dir = new TempDirectory("lazy-tests");
        using var client = new RegistryClient(new RegistryClientOptions { HostsDirectory = null });
        var options = new LazyOptions { CacheDirectory = dir.Combine("cache"), Mode = LazyMode.Fscache, FallBackWhenUnavailable = false, CachefilesDevice = dir.Combine("cachefiles") };

        var e = await Assert.ThrowsAsync<SnapshotterException>(() => LazyFileSystem.CreateAsync(options, client, NullLoggerFactory.Instance));

        Assert.Equal(ErrorKind.FailedPrecondition, e.Kind);
        Assert.Contains("lazy mode fscache is unavailable", e.Message);
        Assert.Contains(dir.Combine("cachefiles") + " does not exist", e.Message);
    }

    [Fact]
    public async Task CreateAsync_FscacheWithFallback_NextModeAndTheRefusalCounted()
    {
        HostRequirements.Mounting();
        using var dir = new TempDirectory("lazy-tests");
        using var client = new RegistryClient(new RegistryClientOptions { HostsDirectory = null });
        var statistics = new RemoteStatistics();

        await using var lazy = await LazyFileSystem.CreateAsync(
            new LazyOptions { CacheDirectory = dir.Combine("cache"), Mode = LazyMode.Fscache, CachefilesDevice = dir.Combine("cachefiles") },
            client,
            NullLoggerFactory.Instance,
            statistics: statistics);

        Assert.Equal("fuse", lazy.Mode);
        Assert.Contains("fscache: " + dir.Combine("cachefiles") + " does not exist", lazy.ModeReason);
        Assert.Equal(1, statistics.Fallbacks(FallbackReason.OnDemandRefused));
    }

    [Fact]
    public async Task ResolveLayerAsync_DataBlob_ReturnsItsSize()
    {
        await using var harness = await LazyHarness.StartAsync(output);
        var blob = fixture.Converted.BigBlob;

        var layer = await harness.Lazy.ResolveLayerAsync(fixture.Reference, blob.Digest);

        Assert.Equal(new RemoteLayer(fixture.Reference, blob.Digest, blob.Size), layer);
    }

    [Fact]
    public async Task ResolveLayerAsync_UnknownDigest_NotFoundNamingImageAndBlob()
    {
        await using var harness = await LazyHarness.StartAsync(output);
        var digest = TestBlobs.Digest(404);

        var e = await Assert.ThrowsAsync<SnapshotterException>(() => harness.Lazy.ResolveLayerAsync(fixture.Reference, digest).AsTask());

        Assert.Equal(ErrorKind.NotFound, e.Kind);
        Assert.Contains(fixture.Reference, e.Message);
        Assert.Contains(digest, e.Message);
    }

    [Theory]
    [InlineData("UPPER/Case:tag")]
    [InlineData("")]
    [InlineData("registry.example/repo:bad tag")]
    public async Task ResolveLayerAsync_BadReference_InvalidArgument(string reference)
    {
        await using var harness = await LazyHarness.StartAsync(output);

        var e = await Assert.ThrowsAsync<SnapshotterException>(() => harness.Lazy.ResolveLayerAsync(reference, fixture.Converted.BigBlob.Digest).AsTask());

        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
        Assert.Contains($"'{reference}'", e.Message);
    }

    [Theory]
    [InlineData("sha256:1234")]
    [InlineData("md5:d41d8cd98f00b204e9800998ecf8427e")]
    [InlineData("not-a-digest")]
    public async Task ResolveLayerAsync_BadDigest_InvalidArgument(string digest)
    {
        await using var harness = await LazyHarness.StartAsync(output);

        var e = await Assert.ThrowsAsync<SnapshotterException>(() => harness.Lazy.ResolveLayerAsync(fixture.Reference, digest).AsTask());

        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
        Assert.Contains(digest, e.Message);
    }

    [Fact]
    public async Task ResolveLayerAsync_RegistryStopped_UnavailableNamingTheImage()
    {
        HostRequirements.DockerRegistry();
        var stopped = await RegistryProcess.StartAsync();
        var reference = $"{stopped.Host}/lazy/gone:v1";
        await stopped.DisposeAsync();
        await using var harness = await LazyHarness.StartAsync(output, clientOptions: QuickFailing());

        var e = await Assert.ThrowsAsync<SnapshotterException>(() => harness.Lazy.ResolveLayerAsync(reference, fixture.Converted.BigBlob.Digest).AsTask());

        output.WriteLine(e.Message);
        Assert.Contains(e.Kind, new[] { ErrorKind.Unavailable, ErrorKind.DeadlineExceeded });
        Assert.Contains(reference, e.Message);
        Assert.IsType<RegistryException>(e.InnerException);
    }

    [Fact]
    public async Task FetchBootstrapAsync_ConvertedImage_WritesTheBootstrapTheImageResolvesTo()
    {
        await using var harness = await LazyHarness.StartAsync(output);
        var destination = Path.Combine(harness.Root, "fetched.boot");

        await harness.Lazy.FetchBootstrapAsync(fixture.Reference, fixture.Converted.Conversion.BootstrapLayer.Digest, destination);

        var resolved = await harness.ResolveAsync(fixture.Reference);
        Assert.Equal(await File.ReadAllBytesAsync(resolved.BootstrapPath), await File.ReadAllBytesAsync(destination));
        Assert.Equal(Snapshotter.Erofs.Format.ErofsFormat.SuperMagic, System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian((await File.ReadAllBytesAsync(destination)).AsSpan(1024)));
        await harness.Lazy.ValidateAsync(new RemoteImage(fixture.Reference, destination, resolved.Layers));
        Assert.Empty(Directory.EnumerateFiles(harness.Root, "fetched.boot.tmp-*"));
    }

    [Fact]
    public async Task FetchBootstrapAsync_DataBlobInsteadOfBootstrapLayer_FailedPreconditionAndNoFile()
    {
        await using var harness = await LazyHarness.StartAsync(output);
        var destination = Path.Combine(harness.Root, "fetched.boot");

        var e = await Assert.ThrowsAsync<SnapshotterException>(() => harness.Lazy.FetchBootstrapAsync(fixture.Reference, fixture.Converted.BigBlob.Digest, destination).AsTask());

        output.WriteLine(e.Message);
        Assert.Equal(ErrorKind.FailedPrecondition, e.Kind);
        Assert.Contains(fixture.Converted.BigBlob.Digest, e.Message);
        Assert.False(File.Exists(destination));
        Assert.Empty(Directory.EnumerateFiles(harness.Root, "fetched.boot.tmp-*"));
    }

    [Fact]
    public async Task FetchBootstrapAsync_UnknownDigest_NotFoundNamingTheBlob()
    {
        await using var harness = await LazyHarness.StartAsync(output);
        var digest = TestBlobs.Digest(405);

        var e = await Assert.ThrowsAsync<SnapshotterException>(() => harness.Lazy.FetchBootstrapAsync(fixture.Reference, digest, Path.Combine(harness.Root, "x.boot")).AsTask());

        Assert.Equal(ErrorKind.NotFound, e.Kind);
        Assert.Contains(digest, e.Message);
    }

    [Fact]
    public async Task AnticipateLayers_ThenResolve_SizesMatchAndUnknownDigestStillFailsOnItsOwn()
    {
        await using var harness = await LazyHarness.StartAsync(output);
        var blobs = fixture.Converted.Conversion.DataBlobs;
        var unknown = TestBlobs.Digest(406);

        harness.Lazy.AnticipateLayers(fixture.Reference, [.. blobs.Select(b => b.Digest), unknown, "sha256:truncated"]);

        foreach (var blob in blobs)
        {
            Assert.Equal(new RemoteLayer(fixture.Reference, blob.Digest, blob.Size), await harness.Lazy.ResolveLayerAsync(fixture.Reference, blob.Digest));
        }

        // The early HEAD of the unknown blob failed quietly; the Prepare's own call asks again and reports it.
        var e = await Assert.ThrowsAsync<SnapshotterException>(() => harness.Lazy.ResolveLayerAsync(fixture.Reference, unknown).AsTask());
        Assert.Equal(ErrorKind.NotFound, e.Kind);
        Assert.Contains(unknown, e.Message);
    }

    [Fact]
    public async Task ResolveImageAsync_ConvertedImage_BootstrapAndDataLayersWithoutTheBootstrapLayer()
    {
        await using var harness = await LazyHarness.StartAsync(output);

        var image = await harness.ResolveAsync(fixture.Reference);

        // Pinned to the manifest the tag named when resolved.
        Assert.Equal($"{fixture.Reference}@{fixture.Converted.Conversion.Manifest.Digest}", image.ImageRef);
        Assert.True(File.Exists(image.BootstrapPath));
        Assert.StartsWith(Path.Combine(harness.CacheDirectory, "bootstraps"), image.BootstrapPath);
        Assert.Equal(
            fixture.Converted.Conversion.DataBlobs.Select(b => new RemoteLayer(image.ImageRef, b.Digest, b.Size)),
            image.Layers);
        Assert.DoesNotContain(image.Layers, l => l.Digest == fixture.Converted.Conversion.BootstrapLayer.Digest);
    }

    [Fact]
    public async Task ResolveImageAsync_Twice_BootstrapLayerDownloadedOnce()
    {
        await using var harness = await LazyHarness.StartAsync(output);
        var bootstrapLayer = fixture.Converted.Conversion.BootstrapLayer.Digest;
        var before = await fixture.SettledBlobGetsAsync(bootstrapLayer, 200);

        var first = await harness.ResolveAsync(fixture.Reference);
        var second = await harness.ResolveAsync(fixture.Reference);

        Assert.Equal(first.BootstrapPath, second.BootstrapPath);
        Assert.Equal(before + 1, await fixture.SettledBlobGetsAsync(bootstrapLayer, 200));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(harness.CacheDirectory, "bootstraps"), "*.tmp-*"));
    }

    [Fact]
    public async Task ResolveImageAsync_OrdinaryImage_FailedPreconditionNotLazilyPullable()
    {
        await using var harness = await LazyHarness.StartAsync(output);

        var e = await Assert.ThrowsAsync<SnapshotterException>(() => harness.ResolveAsync(fixture.PlainReference));

        Assert.Equal(ErrorKind.FailedPrecondition, e.Kind);
        Assert.Contains("not a lazily pullable image", e.Message);
        Assert.Contains(fixture.PlainReference, e.Message);
    }

    [Fact]
    public async Task ResolveImageAsync_UnknownTag_NotFoundNamingTheImage()
    {
        await using var harness = await LazyHarness.StartAsync(output);
        var reference = $"{fixture.Registry.Host}/lazy/app:no-such-tag";

        var e = await Assert.ThrowsAsync<SnapshotterException>(() => harness.ResolveAsync(reference));

        Assert.Equal(ErrorKind.NotFound, e.Kind);
        Assert.Contains(reference, e.Message);
    }

    [Fact]
    public async Task ResolveImageAsync_RegistryStopped_UnavailableNamingTheImage()
    {
        HostRequirements.DockerRegistry();
        var stopped = await RegistryProcess.StartAsync();
        var reference = $"{stopped.Host}/lazy/gone:v1";
        await stopped.DisposeAsync();
        await using var harness = await LazyHarness.StartAsync(output, clientOptions: QuickFailing());

        var e = await Assert.ThrowsAsync<SnapshotterException>(() => harness.ResolveAsync(reference));

        output.WriteLine(e.Message);
        Assert.Contains(e.Kind, new[] { ErrorKind.Unavailable, ErrorKind.DeadlineExceeded });
        Assert.Contains(reference, e.Message);
    }
}
