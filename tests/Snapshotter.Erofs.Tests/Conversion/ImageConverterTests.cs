using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json.Nodes;
using Snapshotter.Erofs.Conversion;
using Snapshotter.Erofs.Tests.Infrastructure;
using Snapshotter.Oci;

namespace Snapshotter.Erofs.Tests.Conversion;

public sealed class ImageConverterTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("erofs-convert-").FullName;

    [Fact]
    public async Task ConvertAsync_UmociLayout_WritesNydusConventionManifestThatSkopeoCopies()
    {
        string src = Path.Combine(_work, "src");
        Shell.Run("umoci", "init", "--layout", src);
        Shell.Run("umoci", "new", "--image", src + ":t");
        for (int layer = 0; layer < 2; layer++)
        {
            string tar = Path.Combine(_work, $"l{layer}.tar");
            await using (var file = File.Create(tar))
            using (var t = new TestLayers(file))
            {
                t.File($"layer{layer}.txt", $"layer {layer}\n");
            }

            Shell.Run("umoci", "raw", "add-layer", "--image", src + ":t", tar);
        }

        string dst = Path.Combine(_work, "dst");
        ConversionResult result = await ImageConverter.ConvertAsync(new OciLayout(src, "t"), new OciLayout(dst, "lazy"), new ImageBuildOptions(), workDirectory: _work);

        JsonNode manifest = JsonNode.Parse(File.ReadAllBytes(BlobPath(dst, result.Manifest.Digest)))!;
        JsonArray layers = manifest["layers"]!.AsArray();
        Assert.Equal(3, layers.Count);
        foreach (JsonNode? data in layers.Take(2))
        {
            Assert.Equal(NydusAnnotations.BlobMediaType, data!["mediaType"]!.GetValue<string>());
            Assert.Equal("true", data["annotations"]![NydusAnnotations.Blob]!.GetValue<string>());
        }

        JsonNode boot = layers[2]!;
        Assert.Equal("application/vnd.oci.image.layer.v1.tar+gzip", boot["mediaType"]!.GetValue<string>());
        Assert.Equal("true", boot["annotations"]![NydusAnnotations.Bootstrap]!.GetValue<string>());
        Assert.Equal("6", boot["annotations"]![NydusAnnotations.FsVersion]!.GetValue<string>());

        // The bootstrap layer is a gzip tar holding image/image.boot whose devices are the data layers.
        await using (var gz = new GZipStream(File.OpenRead(BlobPath(dst, boot["digest"]!.GetValue<string>())), CompressionMode.Decompress))
        using (var reader = new TarReader(gz))
        {
            var names = new List<string>();
            while (reader.GetNextEntry() is { } entry)
            {
                names.Add(entry.Name);
            }

            Assert.Contains(NydusAnnotations.BootstrapPath, names);
        }

        JsonNode config = JsonNode.Parse(File.ReadAllBytes(BlobPath(dst, manifest["config"]!["digest"]!.GetValue<string>())))!;
        Assert.Equal(3, config["rootfs"]!["diff_ids"]!.AsArray().Count);
        Assert.Equal(layers[0]!["digest"]!.GetValue<string>(), config["rootfs"]!["diff_ids"]![0]!.GetValue<string>());
        Assert.Equal("amd64", config["architecture"]!.GetValue<string>());

        foreach (JsonNode? layer in layers)
        {
            string digest = layer!["digest"]!.GetValue<string>();
            Assert.Equal(digest, OciDigest.Compute(File.ReadAllBytes(BlobPath(dst, digest))));
        }

        // skopeo verifies every digest and size while copying.
        Shell.Run("skopeo", "copy", $"oci:{dst}:lazy", $"oci:{Path.Combine(_work, "copy")}:lazy");
    }

    [Theory]
    [InlineData("docker.io/library/busybox:latest")]
    [InlineData("registry.example.com/app@sha256:0000000000000000000000000000000000000000000000000000000000000000")]
    public void Parse_RegistryReference_IsNotALayoutReference(string reference)
    {
        var e = Assert.Throws<NotSupportedException>(() => OciLayoutReference.Parse(reference));
        Assert.Contains("not an OCI layout reference", e.Message);
    }

    [Theory]
    [InlineData("oci:/tmp/layout:v1", "/tmp/layout", "v1")]
    [InlineData("oci:/tmp/layout", "/tmp/layout", "latest")]
    [InlineData("oci:/tmp/with:colon/layout:tag", "/tmp/with:colon/layout", "tag")]
    public void Parse_OciLayoutReference_SplitsPathAndTag(string text, string path, string tag)
    {
        OciLayoutReference reference = OciLayoutReference.Parse(text);
        Assert.Equal(path, reference.LayoutPath);
        Assert.Equal(tag, reference.Tag);
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private static string BlobPath(string layout, string digest) => Path.Combine(layout, "blobs", "sha256", OciDigest.Hex(digest));
}
