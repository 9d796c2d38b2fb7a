using System.Formats.Tar;
using Snapshotter.Cli;
using Snapshotter.Erofs;
using Snapshotter.Erofs.Conversion;
using Snapshotter.Erofs.Tests.Infrastructure;
using Snapshotter.Oci;

namespace Snapshotter.Tests.Cli;

/// <summary>The logic behind <c>snapshotter convert</c> and <c>snapshotter inspect</c> on OCI layouts.</summary>
public sealed class ImageInspectorTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("inspect-").FullName;

    [Fact]
    public async Task RunAsync_ConvertedLayout_ListsEntriesAndCatsFiles()
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
        var layerDescriptor = new Descriptor("application/vnd.oci.image.layer.v1.tar", Digest(layerBytes), layerBytes.Length);
        await layout.PutBlobAsync(layerDescriptor, new MemoryStream(layerBytes));
        byte[] config = """{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"""u8.ToArray();
        var configDescriptor = new Descriptor("application/vnd.oci.image.config.v1+json", Digest(config), config.Length);
        await layout.PutBlobAsync(configDescriptor, new MemoryStream(config));
        byte[] manifest = System.Text.Encoding.UTF8.GetBytes($$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"{{configDescriptor.MediaType}}","digest":"{{configDescriptor.Digest}}","size":{{config.Length}}},"layers":[{"mediaType":"{{layerDescriptor.MediaType}}","digest":"{{layerDescriptor.Digest}}","size":{{layerBytes.Length}}}]}""");
        await layout.PutManifestAsync(new Descriptor(MediaTypes.OciManifest, Digest(manifest), manifest.Length), manifest);

        string dst = Path.Combine(_work, "dst2");
        var reports = new List<ConversionProgress>();
        var summary = new StringWriter();
        int code = await ImageConversionRunner.RunAsync(
            $"oci:{src}:t", $"oci:{dst}:lazy", new ImageBuildOptions { Compressor = ChunkCompressor.Lz4Block, ChunkSize = 4096 }, null, summary, new ListProgress(reports));
        Assert.Equal(0, code);
        Assert.NotEmpty(reports);
        Assert.All(reports, r => Assert.Equal((0, 1, (long)layerBytes.Length), (r.Layer, r.LayerCount, r.LayerSize)));
        Assert.Equal(layerBytes.Length, reports[^1].LayerBytesRead);
        Assert.Contains("bootstrap layer sha256:", summary.ToString());

        var output = new StringWriter();
        Assert.Equal(0, await ImageInspector.RunAsync($"oci:{dst}:lazy", null, list: true, catPath: null, output, Stream.Null));
        string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines, l => l.StartsWith("blob 1: ", StringComparison.Ordinal) && l.Contains("compressor=Lz4Block", StringComparison.Ordinal));
        Assert.Contains("100644 0 0 10 /etc/hostname", lines);
        Assert.Contains("120777 0 0 8 /etc/link -> hostname", lines);
        Assert.Contains("020666 0 0 0 /etc/null", lines);
        Assert.Contains(lines, l => l.StartsWith("040755 0 0 ", StringComparison.Ordinal) && l.EndsWith(" /etc", StringComparison.Ordinal));

        var cat = new MemoryStream();
        Assert.Equal(0, await ImageInspector.RunAsync($"oci:{dst}:lazy", null, list: false, catPath: "/etc/hostname", TextWriter.Null, cat));
        Assert.Equal("lazy-host\n", System.Text.Encoding.UTF8.GetString(cat.ToArray()));
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private static string Digest(byte[] data) => OciDigest.Compute(data);

    private sealed class ListProgress(List<ConversionProgress> reports) : IProgress<ConversionProgress>
    {
        public void Report(ConversionProgress value) => reports.Add(value);
    }
}
