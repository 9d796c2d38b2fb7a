using System.Text;
using Snapshotter.Erofs.Conversion;
using Snapshotter.Oci;

namespace Snapshotter.Erofs.Tests.Conversion;

public sealed class OciLayoutTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("erofs-layout-").FullName;

    [Theory]
    [InlineData("linux/amd64", "amd64-layer")]
    [InlineData("linux/arm64/v8", "arm64-layer")]
    public async Task ResolveAsync_ImageIndex_PicksTheRequestedPlatform(string platform, string expectedLayer)
    {
        var layout = new OciLayout(_work, "multi");
        string amd64 = await PutManifestAsync(layout, "amd64-layer");
        string arm64 = await PutManifestAsync(layout, "arm64-layer");
        byte[] index = Encoding.UTF8.GetBytes($$$"""
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
              {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{{{amd64}}}","size":{{{Size(amd64)}}},"platform":{"architecture":"amd64","os":"linux"}},
              {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{{{arm64}}}","size":{{{Size(arm64)}}},"platform":{"architecture":"arm64","os":"linux","variant":"v8"}}]}
            """);
        await layout.PutManifestAsync(new Descriptor(MediaTypes.OciIndex, Digest(index), index.Length), index);

        SourceImage image = await layout.ResolveAsync(platform);
        Assert.Equal(Digest(Encoding.UTF8.GetBytes(expectedLayer)), Assert.Single(image.Layers).Digest);
    }

    [Fact]
    public async Task ResolveAsync_UnknownPlatformOrTag_ThrowsInvalidImage()
    {
        var layout = new OciLayout(_work, "single");
        string manifest = await PutManifestAsync(layout, "only");
        byte[] bytes = File.ReadAllBytes(Path.Combine(_work, "blobs", "sha256", OciDigest.Hex(manifest)));
        await layout.PutManifestAsync(new Descriptor(MediaTypes.OciManifest, manifest, bytes.Length), bytes);

        Assert.Single((await layout.ResolveAsync(null)).Layers);
        var e = await Assert.ThrowsAsync<InvalidImageException>(() => new OciLayout(_work, "missing").ResolveAsync(null));
        Assert.Contains("tag 'missing' not found", e.Message);
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private long Size(string digest) => new FileInfo(Path.Combine(_work, "blobs", "sha256", OciDigest.Hex(digest))).Length;

    private static async Task<string> PutManifestAsync(OciLayout layout, string layerContent)
    {
        byte[] layer = Encoding.UTF8.GetBytes(layerContent);
        await layout.PutBlobAsync(new Descriptor("application/vnd.oci.image.layer.v1.tar", Digest(layer), layer.Length), new MemoryStream(layer));
        byte[] config = "{}"u8.ToArray();
        await layout.PutBlobAsync(new Descriptor("application/vnd.oci.image.config.v1+json", Digest(config), config.Length), new MemoryStream(config));
        byte[] manifest = Encoding.UTF8.GetBytes($$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{Digest(config)}}","size":2},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{{Digest(layer)}}","size":{{layer.Length}}}]}""");
        await layout.PutBlobAsync(new Descriptor(MediaTypes.OciManifest, Digest(manifest), manifest.Length), new MemoryStream(manifest));
        return Digest(manifest);
    }

    private static string Digest(byte[] data) => OciDigest.Compute(data);
}
