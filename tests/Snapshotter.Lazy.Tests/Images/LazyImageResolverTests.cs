using Snapshotter.Core.Remote;
using Snapshotter.Erofs.Reading;
using Snapshotter.Lazy.Blobs;
using Snapshotter.Lazy.Images;
using Snapshotter.Lazy.Tests.Infrastructure;
using Snapshotter.Oci;
using Snapshotter.Registry;
using Xunit.Abstractions;

namespace Snapshotter.Lazy.Tests.Images;

[Collection(RegistryImageCollection.Name)]
public sealed class LazyImageResolverTests(RegistryImageFixture fixture, ITestOutputHelper output)
{
    private async Task<(LazyHarness Harness, RemoteImage Image)> ResolveAsync()
    {
        var harness = await LazyHarness.StartAsync(output);
        return (harness, await harness.ResolveAsync(fixture.Reference));
    }

    [Fact]
    public async Task ValidateAsync_ConvertedImage_Passes()
    {
        var (harness, image) = await ResolveAsync();
        await using var _ = harness;

        await harness.Lazy.ValidateAsync(image);

        Assert.Equal(fixture.Converted.Conversion.DataBlobs.Select(b => b.Digest), image.Layers.Select(l => l.Digest));
        Assert.Equal(fixture.Converted.Conversion.DataBlobs.Select(b => b.Size), image.Layers.Select(l => l.Size));
    }

    [Fact]
    public async Task ValidateAsync_BootstrapNeedsBlobThatIsNotALayer_FailedPreconditionNamingTheDigest()
    {
        var (harness, image) = await ResolveAsync();
        await using var _ = harness;
        var missing = image.Layers[^1];

        var e = await Assert.ThrowsAsync<SnapshotterException>(() => harness.Lazy.ValidateAsync(image with { Layers = image.Layers.SkipLast(1).ToArray() }).AsTask());

        Assert.Equal(ErrorKind.FailedPrecondition, e.Kind);
        Assert.Contains(missing.Digest, e.Message);
        Assert.Contains("not a layer of the image", e.Message);
        Assert.Contains(image.ImageRef, e.Message);
    }

    [Theory]
    [InlineData("truncated")]
    [InlineData("garbage")]
    [InlineData("empty")]
    [InlineData("missing")]
    public async Task ValidateAsync_BrokenBootstrapFile_FailedPreconditionInvalidBootstrap(string damage)
    {
        var (harness, image) = await ResolveAsync();
        await using var _ = harness;
        var broken = Path.Combine(harness.Root, "broken.boot");
        var original = await File.ReadAllBytesAsync(image.BootstrapPath);
        switch (damage)
        {
            case "truncated":
                await File.WriteAllBytesAsync(broken, original[..1500]);
                break;
            case "garbage":
                var junk = new byte[original.Length];
                new Random(5).NextBytes(junk);
                await File.WriteAllBytesAsync(broken, junk);
                break;
            case "empty":
                await File.WriteAllBytesAsync(broken, []);
                break;
        }

        var e = await Assert.ThrowsAsync<SnapshotterException>(() => harness.Lazy.ValidateAsync(image with { BootstrapPath = broken }).AsTask());

        Assert.Equal(ErrorKind.FailedPrecondition, e.Kind);
        Assert.Contains("invalid bootstrap", e.Message);
        Assert.Contains(image.ImageRef, e.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public async Task ValidateAsync_LayerWithUnknownSize_FailedPrecondition(long size)
    {
        var (harness, image) = await ResolveAsync();
        await using var _ = harness;
        var layers = image.Layers.ToArray();
        layers[0] = layers[0] with { Size = size };

        var e = await Assert.ThrowsAsync<SnapshotterException>(() => harness.Lazy.ValidateAsync(image with { Layers = layers }).AsTask());

        Assert.Equal(ErrorKind.FailedPrecondition, e.Kind);
        Assert.Contains(layers[0].Digest, e.Message);
        Assert.Contains("unknown", e.Message);
    }

    [Fact]
    public async Task Open_SameImageTwice_OneSharedReferencePerBlobReleasedWithTheLast()
    {
        var (harness, image) = await ResolveAsync();
        await using var _ = harness;
        var blobs = new LazyBlobRegistry();
        var resolver = new LazyImageResolver(blobs, harness.Client);

        var first = resolver.Open(image);
        var second = resolver.Open(image);

        Assert.Equal(image.Layers.Count, blobs.Count);
        Assert.Equal(first.Blobs, second.Blobs);
        Assert.Equal(first.Id, second.Id);
        Assert.All(first.Blobs, b => Assert.Equal(2, b.References));
        await resolver.ReleaseAsync(first);
        Assert.Equal(image.Layers.Count, blobs.Count);
        await resolver.ReleaseAsync(second);
        Assert.Equal(0, blobs.Count);
    }

    [Fact]
    public async Task Open_ConvertedImage_BlobsInDeviceOrderCoveringTheirDevices()
    {
        var (harness, image) = await ResolveAsync();
        await using var _ = harness;
        var resolver = new LazyImageResolver(new LazyBlobRegistry(), harness.Client);
        using var bootstrap = ErofsImage.Open(image.BootstrapPath);

        var lazy = resolver.Open(image);

        Assert.Equal(bootstrap.Devices.Select(d => "sha256:" + d.Tag), lazy.Blobs.Select(b => b.Digest));
        foreach (var (blob, device) in lazy.Blobs.Zip(bootstrap.Devices))
        {
            Assert.Equal(0, blob.DeviceSize % 4096);
            Assert.True(blob.DeviceSize >= (long)device.Blocks * 4096, $"{blob.Digest}: device size {blob.DeviceSize} < {device.Blocks} blocks");
            Assert.True(blob.DeviceSize >= (long)blob.Info.UncompressedSize);
            Assert.Equal(image.Layers.Single(l => l.Digest == blob.Digest).Size, blob.StoredSize);
        }

        await resolver.ReleaseAsync(lazy);
    }

    [Fact]
    public async Task GetChunkTableAsync_OpenedBlob_OneRangeGetOfTheTailPerBlob()
    {
        var (harness, image) = await ResolveAsync();
        await using var _ = harness;
        var resolver = new LazyImageResolver(new LazyBlobRegistry(), harness.Client);
        var before = await Task.WhenAll(image.Layers.Select(l => fixture.SettledBlobGetsAsync(l.Digest, 206)));
        var lazy = resolver.Open(image);
        Assert.Equal(before, await Task.WhenAll(image.Layers.Select(l => fixture.SettledBlobGetsAsync(l.Digest, 206))));

        var tables = await Task.WhenAll(lazy.Blobs.SelectMany(b => new[] { b.GetChunkTableAsync(), b.GetChunkTableAsync() }));

        var after = await Task.WhenAll(image.Layers.Select(l => fixture.SettledBlobGetsAsync(l.Digest, 206)));
        Assert.Equal(before.Select(n => n + 1), after);
        foreach (var (blob, table) in lazy.Blobs.Zip(tables.Chunk(2).Select(pair => pair[0])))
        {
            Assert.True(table.Count > 0);
            Assert.True(table.HasDigests);
            Assert.Equal(ChunkDigester.Sha256, table.DigestAlgorithm);
            Assert.Equal(blob.DeviceSize, table.UncompressedSize);
            Assert.Equal(blob.StoredSize, table.CompressedSize);
        }

        await resolver.ReleaseAsync(lazy);
    }

    [Fact]
    public async Task Open_LayerWithInvalidReference_InvalidArgumentAndNoReferenceKept()
    {
        var (harness, image) = await ResolveAsync();
        await using var _ = harness;
        var blobs = new LazyBlobRegistry();
        var resolver = new LazyImageResolver(blobs, harness.Client);
        var layers = image.Layers.ToArray();
        layers[^1] = layers[^1] with { ImageRef = "Not A Reference!" };

        var e = Assert.Throws<SnapshotterException>(() => resolver.Open(image with { Layers = layers }));

        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
        Assert.Contains("Not A Reference!", e.Message);
        Assert.Equal(0, blobs.Count);
    }

    [Fact]
    public async Task Open_LayerOfAnotherRepository_BlobLocatedThere()
    {
        var (harness, image) = await ResolveAsync();
        await using var _ = harness;
        var resolver = new LazyImageResolver(new LazyBlobRegistry(), harness.Client);
        var layers = image.Layers.ToArray();
        layers[0] = layers[0] with { ImageRef = $"{fixture.Registry.Host}/elsewhere/mirror:v9" };
        layers[1] = layers[1] with { ImageRef = string.Empty };

        var lazy = resolver.Open(image with { Layers = layers });

        var located = lazy.Blobs.ToDictionary(b => b.Digest, b => b.Locator.Repository.Repository);
        Assert.Equal("elsewhere/mirror", located[layers[0].Digest]);
        Assert.Equal(ImageReference.Parse(image.ImageRef).Repository, located[layers[1].Digest]);
        await resolver.ReleaseAsync(lazy);
    }
}
