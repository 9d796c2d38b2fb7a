using System.Diagnostics;
using Snapshotter.Registry.Tests.Infrastructure;
using Snapshotter.Oci;

namespace Snapshotter.Registry.Tests;

/// <summary>Push, resolve and read against a real anonymous docker-registry on 127.0.0.1 (plain HTTP by default).</summary>
public sealed class RegistryClientAnonymousTests : IClassFixture<AnonymousRegistryFixture>
{
    private readonly RegistryProcess _registry;

    public RegistryClientAnonymousTests(AnonymousRegistryFixture fixture)
    {
        _registry = fixture.Registry;
    }

    private ImageReference Repo(string name) => ImageReference.Parse($"{_registry.Host}/{name}");

    [Fact]
    public async Task PushManifestAsync_ImageWithIndex_ResolvesBackWithSameDigests()
    {
        using var client = new RegistryClient(TestClients.Options());
        ImageReference repo = Repo("push/app");
        TestImage amd64 = TestImage.Create(new Platform("linux", "amd64"), 1, 1000, 200_000);
        TestImage arm64 = TestImage.Create(new Platform("linux", "arm64", "v8"), 2, 3000);
        await amd64.PushAsync(client, repo);
        await arm64.PushAsync(client, repo);
        byte[] index = TestImage.CreateIndex(amd64, arm64);
        string indexDigest = await client.PushManifestAsync(repo.WithTag("v1"), MediaTypes.OciIndex, index);

        ResolvedImage resolved = await client.ResolveAsync(repo.WithTag("v1"));

        Assert.Equal(OciDigest.Compute(index), indexDigest);
        Assert.Equal(indexDigest, resolved.Reference.Digest);
        Assert.Equal(indexDigest, resolved.Index!.Descriptor.Digest);
        Assert.Equal(amd64.ManifestDigest, resolved.Manifest.Descriptor.Digest);
        Assert.Equal(amd64.Manifest, resolved.Manifest.Content.ToArray());
        Assert.Equal(amd64.ConfigDigest, resolved.Config.Digest);
        Assert.Equal(amd64.Layers.Select(l => OciDigest.Compute(l)), resolved.Layers.Select(l => l.Digest));
        Assert.Equal(amd64.Layers.Select(l => (long)l.Length), resolved.Layers.Select(l => l.Size));
        Assert.Equal("1", resolved.Annotations["test.seed"]);
    }

    [Fact]
    public async Task ResolveAsync_ArmPlatform_SelectsMatchingIndexEntry()
    {
        using var client = new RegistryClient(TestClients.Options());
        ImageReference repo = Repo("platforms/app");
        TestImage amd64 = TestImage.Create(new Platform("linux", "amd64"), 3, 100);
        TestImage arm64 = TestImage.Create(new Platform("linux", "arm64", "v8"), 4, 100);
        await amd64.PushAsync(client, repo);
        await arm64.PushAsync(client, repo);
        await client.PushManifestAsync(repo.WithTag("multi"), MediaTypes.OciIndex, TestImage.CreateIndex(amd64, arm64));

        ResolvedImage resolved = await client.ResolveAsync(repo.WithTag("multi"), Platform.Parse("linux/aarch64"));
        var missing = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(repo.WithTag("multi"), Platform.Parse("windows/amd64")));

        Assert.Equal(arm64.ManifestDigest, resolved.Manifest.Descriptor.Digest);
        Assert.Equal(RegistryErrorKind.NotFound, missing.Kind);
        Assert.Contains("linux/arm64/v8", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResolveAsync_TagOfSingleManifest_HasNoIndex()
    {
        using var client = new RegistryClient(TestClients.Options());
        ImageReference repo = Repo("single/app");
        TestImage image = TestImage.Create(Platform.Default, 5, 10, 20);
        await image.PushAsync(client, repo, tag: "only");

        ResolvedImage resolved = await client.ResolveAsync(repo.WithTag("only"));
        ResolvedImage byDigest = await client.ResolveAsync(repo.WithDigest(image.ManifestDigest));

        Assert.Null(resolved.Index);
        Assert.Equal(image.ManifestDigest, resolved.Reference.Digest);
        Assert.Equal(image.ManifestDigest, byDigest.Manifest.Descriptor.Digest);
        Assert.Equal(2, resolved.Layers.Count);
    }

    [Fact]
    public async Task ResolveAsync_UnknownTag_ThrowsNotFoundWithRegistryCode()
    {
        using var client = new RegistryClient(TestClients.Options());
        TestImage image = TestImage.Create(Platform.Default, 6, 10);
        await image.PushAsync(client, Repo("missing/app"), tag: "present");

        var ex = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(Repo("missing/app:absent")));

        Assert.Equal(RegistryErrorKind.NotFound, ex.Kind);
        Assert.Equal(404, ex.StatusCode);
        Assert.Equal("MANIFEST_UNKNOWN", ex.ErrorCode);
        Assert.Contains(_registry.Host, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_RandomOffsets_MatchBlobByteForByte()
    {
        using var client = new RegistryClient(TestClients.Options());
        byte[] blob = TestClients.RandomBytes(3 * 1024 * 1024 + 17, 7);
        BlobLocator locator = Repo("ranges/app").Blob(OciDigest.Compute(blob));
        await client.PushBlobAsync(locator, new MemoryStream(blob));
        var random = new Random(8);

        for (int i = 0; i < 40; i++)
        {
            int offset = random.Next(blob.Length);
            int length = 1 + random.Next(Math.Min(blob.Length - offset, 300_000));
            byte[] buffer = new byte[length];
            await client.ReadAsync(locator, offset, buffer);
            Assert.True(blob.AsSpan(offset, length).SequenceEqual(buffer), $"bytes {offset}+{length} differ");
        }

        byte[] tail = new byte[17];
        await client.ReadAsync(locator, blob.Length - 17, tail);
        Assert.Equal(blob.AsSpan(blob.Length - 17).ToArray(), tail);
    }

    [Fact]
    public async Task ReadAsync_PastEndOfBlob_ThrowsRangeNotSatisfiable()
    {
        using var client = new RegistryClient(TestClients.Options());
        byte[] blob = TestClients.RandomBytes(1000, 9);
        BlobLocator locator = Repo("ranges/end").Blob(OciDigest.Compute(blob));
        await client.PushBlobAsync(locator, new MemoryStream(blob));

        var overlapping = await Assert.ThrowsAsync<RegistryException>(() => client.ReadAsync(locator, 900, new byte[200]));
        var beyond = await Assert.ThrowsAsync<RegistryException>(() => client.ReadAsync(locator, 5000, new byte[10]));

        Assert.Equal(RegistryErrorKind.RangeNotSatisfiable, overlapping.Kind);
        Assert.Equal(RegistryErrorKind.RangeNotSatisfiable, beyond.Kind);
    }

    [Fact]
    public async Task ReadAsync_UnknownBlob_ThrowsNotFound()
    {
        using var client = new RegistryClient(TestClients.Options());
        BlobLocator locator = Repo("ranges/none").Blob(OciDigest.Compute("nothing"u8));

        var ex = await Assert.ThrowsAsync<RegistryException>(() => client.ReadAsync(locator, 0, new byte[10]));

        Assert.Equal(RegistryErrorKind.NotFound, ex.Kind);
    }

    [Fact]
    public async Task OpenBlobAsync_WholeBlob_StreamsVerifiedContent()
    {
        using var client = new RegistryClient(TestClients.Options());
        byte[] blob = TestClients.RandomBytes(2 * 1024 * 1024 + 3, 10);
        BlobLocator locator = Repo("stream/app").Blob(OciDigest.Compute(blob));
        await client.PushBlobAsync(locator, new MemoryStream(blob));

        await using Stream stream = await client.OpenBlobAsync(locator, blob.Length);
        var copy = new MemoryStream();
        await stream.CopyToAsync(copy);

        Assert.Equal(blob, copy.ToArray());
    }

    [Fact]
    public async Task OpenBlobAsync_WrongExpectedSize_ThrowsDigestMismatch()
    {
        using var client = new RegistryClient(TestClients.Options());
        byte[] blob = TestClients.RandomBytes(1000, 11);
        BlobLocator locator = Repo("stream/size").Blob(OciDigest.Compute(blob));
        await client.PushBlobAsync(locator, new MemoryStream(blob));

        var ex = await Assert.ThrowsAsync<RegistryException>(() => client.OpenBlobAsync(locator, 999));

        Assert.Equal(RegistryErrorKind.DigestMismatch, ex.Kind);
    }

    [Fact]
    public async Task PushBlobAsync_LargerThanChunk_UploadsInChunksAndSkipsExisting()
    {
        RegistryClientOptions options = TestClients.Options();
        options.UploadChunkSize = 64 * 1024;
        using var client = new RegistryClient(options);
        byte[] blob = TestClients.RandomBytes(300_001, 12);
        BlobLocator locator = Repo("chunked/app").Blob(OciDigest.Compute(blob));

        bool existedBefore = await client.BlobExistsAsync(locator);
        bool uploaded = await client.PushBlobAsync(locator, new MemoryStream(blob));
        bool uploadedAgain = await client.PushBlobAsync(locator, new MemoryStream(blob));
        byte[] back = new byte[blob.Length];
        await client.ReadAsync(locator, 0, back);

        Assert.False(existedBefore);
        Assert.True(uploaded);
        Assert.False(uploadedAgain);
        Assert.True(await client.BlobExistsAsync(locator));
        Assert.Equal(blob, back);
    }

    [Fact]
    public async Task PushBlobAsync_ContentNotMatchingDigest_ThrowsAndLeavesNoBlob()
    {
        using var client = new RegistryClient(TestClients.Options());
        BlobLocator locator = Repo("bad/app").Blob(OciDigest.Compute("expected"u8));

        var ex = await Assert.ThrowsAsync<RegistryException>(() => client.PushBlobAsync(locator, new MemoryStream("different"u8.ToArray())));

        Assert.Equal(RegistryErrorKind.DigestMismatch, ex.Kind);
        Assert.False(await client.BlobExistsAsync(locator));
    }

    [Fact]
    public async Task MountBlobAsync_BlobInOtherRepository_LinksWithoutUpload()
    {
        using var client = new RegistryClient(TestClients.Options());
        byte[] blob = TestClients.RandomBytes(5000, 13);
        string digest = OciDigest.Compute(blob);
        await client.PushBlobAsync(Repo("mount/source").Blob(digest), new MemoryStream(blob));

        bool mounted = await client.MountBlobAsync(Repo("mount/target").Blob(digest), "mount/source");
        bool missing = await client.MountBlobAsync(Repo("mount/target2").Blob(OciDigest.Compute("absent"u8)), "mount/source");
        byte[] back = new byte[100];
        await client.ReadAsync(Repo("mount/target").Blob(digest), 10, back);

        Assert.True(mounted);
        Assert.False(missing);
        Assert.Equal(blob.AsSpan(10, 100).ToArray(), back);
    }

    [Fact]
    public async Task PushManifestAsync_ReadBackBySkopeo_HasSameDigest()
    {
        using var client = new RegistryClient(TestClients.Options());
        ImageReference repo = Repo("skopeo/app");
        TestImage image = TestImage.Create(Platform.Default, 14, 100);
        await image.PushAsync(client, repo, tag: "x");

        var start = new ProcessStartInfo("skopeo", ["inspect", "--raw", "--tls-verify=false", $"docker://{_registry.Host}/skopeo/app:x"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using Process process = Process.Start(start)!;
        var output = new MemoryStream();
        await process.StandardOutput.BaseStream.CopyToAsync(output);
        await process.WaitForExitAsync();

        Assert.Equal(0, process.ExitCode);
        Assert.Equal(image.ManifestDigest, OciDigest.Compute(output.ToArray()));
    }

    [Fact]
    public async Task ReadAsync_CallerCancels_ThrowsOperationCanceled()
    {
        using var client = new RegistryClient(TestClients.Options());
        byte[] blob = TestClients.RandomBytes(1000, 15);
        BlobLocator locator = Repo("cancel/app").Blob(OciDigest.Compute(blob));
        await client.PushBlobAsync(locator, new MemoryStream(blob));
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.ReadAsync(locator, 0, new byte[10], cts.Token));
    }
    [Fact]
    public async Task ResolveAsync_DockerManifestList_SelectsDockerManifest()
    {
        using var client = new RegistryClient(TestClients.Options());
        ImageReference repo = Repo("docker/app");
        byte[] config = System.Text.Encoding.UTF8.GetBytes("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}");
        byte[] layer = TestClients.RandomBytes(777, 16);
        await client.PushBlobAsync(repo.Blob(OciDigest.Compute(config)), new MemoryStream(config));
        await client.PushBlobAsync(repo.Blob(OciDigest.Compute(layer)), new MemoryStream(layer));
        byte[] manifest = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new
        {
            schemaVersion = 2,
            mediaType = MediaTypes.DockerManifest,
            config = new { mediaType = MediaTypes.DockerConfig, digest = OciDigest.Compute(config), size = config.Length },
            layers = new[] { new { mediaType = MediaTypes.DockerLayerTarGzip, digest = OciDigest.Compute(layer), size = layer.Length } },
        });
        string manifestDigest = await client.PushManifestAsync(repo.WithDigest(OciDigest.Compute(manifest)), MediaTypes.DockerManifest, manifest);
        byte[] list = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new
        {
            schemaVersion = 2,
            mediaType = MediaTypes.DockerManifestList,
            manifests = new[] { new { mediaType = MediaTypes.DockerManifest, digest = manifestDigest, size = manifest.Length, platform = new { architecture = "amd64", os = "linux" } } },
        });
        await client.PushManifestAsync(repo.WithTag("list"), MediaTypes.DockerManifestList, list);

        ResolvedImage resolved = await client.ResolveAsync(repo.WithTag("list"));

        Assert.Equal(MediaTypes.DockerManifestList, resolved.Index!.Descriptor.MediaType);
        Assert.Equal(MediaTypes.DockerManifest, resolved.Manifest.Descriptor.MediaType);
        Assert.Equal(manifestDigest, resolved.Manifest.Descriptor.Digest);
        Assert.Equal(MediaTypes.DockerLayerTarGzip, Assert.Single(resolved.Layers).MediaType);
    }
}
