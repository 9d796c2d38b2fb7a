using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Snapshotter.Erofs.Conversion;
using Snapshotter.Erofs.Reading;
using Snapshotter.Erofs.Tests.Infrastructure;

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
            Assert.Equal(digest, "sha256:" + Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(BlobPath(dst, digest)))));
        }

        // skopeo verifies every digest and size while copying.
        Shell.Run("skopeo", "copy", $"oci:{dst}:lazy", $"oci:{Path.Combine(_work, "copy")}:lazy");
    }

    [Fact]
    public async Task Inspect_ConvertedLayout_ListsEntriesAndCatsFiles()
    {
        string src = Path.Combine(_work, "src2");
        var layout = new OciLayout(src, "t");
        MemoryStream tar = new();
        using (var t = new TestLayers(tar))
        {
            t.Dir("etc/");
            t.File("etc/hostname", "lazy-host\n", 0x1A4);
            t.Symlink("etc/link", "hostname");
            t.Device("etc/null", TarEntryType.CharacterDevice, 1, 3);
        }

        byte[] layerBytes = tar.ToArray();
        var layerDescriptor = new OciDescriptor("application/vnd.oci.image.layer.v1.tar", Digest(layerBytes), layerBytes.Length);
        await layout.PutBlobAsync(layerDescriptor, new MemoryStream(layerBytes));
        byte[] config = """{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"""u8.ToArray();
        var configDescriptor = new OciDescriptor("application/vnd.oci.image.config.v1+json", Digest(config), config.Length);
        await layout.PutBlobAsync(configDescriptor, new MemoryStream(config));
        byte[] manifest = System.Text.Encoding.UTF8.GetBytes($$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"{{configDescriptor.MediaType}}","digest":"{{configDescriptor.Digest}}","size":{{config.Length}}},"layers":[{"mediaType":"{{layerDescriptor.MediaType}}","digest":"{{layerDescriptor.Digest}}","size":{{layerBytes.Length}}}]}""");
        await layout.PutManifestAsync(new OciDescriptor(OciLayout.ManifestMediaType, Digest(manifest), manifest.Length), manifest);

        string dst = Path.Combine(_work, "dst2");
        var reports = new List<ConversionProgress>();
        var summary = new StringWriter();
        int code = await Snapshotter.Erofs.Tooling.ImageConversionRunner.RunAsync(
            $"oci:{src}:t", $"oci:{dst}:lazy", ChunkCompressor.Lz4Block, 4096, null, summary, new ListProgress(reports));
        Assert.Equal(0, code);
        Assert.NotEmpty(reports);
        Assert.All(reports, r => Assert.Equal((0, 1, (long)layerBytes.Length), (r.Layer, r.LayerCount, r.LayerSize)));
        Assert.Equal(layerBytes.Length, reports[^1].LayerBytesRead);
        Assert.Contains("bootstrap layer sha256:", summary.ToString());

        var output = new StringWriter();
        Assert.Equal(0, await Snapshotter.Erofs.Tooling.ImageInspector.RunAsync($"oci:{dst}:lazy", null, list: true, catPath: null, output, Stream.Null));
        string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines, l => l.StartsWith("blob 1: ", StringComparison.Ordinal) && l.Contains("compressor=Lz4Block", StringComparison.Ordinal));
        Assert.Contains("100644 0 0 10 /etc/hostname", lines);
        Assert.Contains("120777 0 0 8 /etc/link -> hostname", lines);
        Assert.Contains("020666 0 0 0 /etc/null", lines);
        Assert.Contains(lines, l => l.StartsWith("040755 0 0 ", StringComparison.Ordinal) && l.EndsWith(" /etc", StringComparison.Ordinal));

        var cat = new MemoryStream();
        Assert.Equal(0, await Snapshotter.Erofs.Tooling.ImageInspector.RunAsync($"oci:{dst}:lazy", null, list: false, catPath: "/etc/hostname", TextWriter.Null, cat));
        Assert.Equal("lazy-host\n", System.Text.Encoding.UTF8.GetString(cat.ToArray()));
    }

    [Theory]
    [InlineData("docker.io/library/busybox:latest")]
    [InlineData("registry.example.com/app@sha256:0000000000000000000000000000000000000000000000000000000000000000")]
    public void Parse_RegistryReference_IsNotALayoutReference(string reference)
    {
        var e = Assert.Throws<NotSupportedException>(() => ImageReference.Parse(reference));
        Assert.Contains("not an OCI layout reference", e.Message);
    }

    [Theory]
    [InlineData("oci:/tmp/layout:v1", "/tmp/layout", "v1")]
    [InlineData("oci:/tmp/layout", "/tmp/layout", "latest")]
    [InlineData("oci:/tmp/with:colon/layout:tag", "/tmp/with:colon/layout", "tag")]
    public void Parse_OciLayoutReference_SplitsPathAndTag(string text, string path, string tag)
    {
        ImageReference reference = ImageReference.Parse(text);
        Assert.Equal(path, reference.LayoutPath);
        Assert.Equal(tag, reference.Tag);
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private static string BlobPath(string layout, string digest) => Path.Combine(layout, "blobs", "sha256", digest[7..]);

    private static string Digest(byte[] data) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(data));

    private sealed class ListProgress(List<ConversionProgress> reports) : IProgress<ConversionProgress>
    {
        public void Report(ConversionProgress value) => reports.Add(value);
    }
}
