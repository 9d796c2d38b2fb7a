using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Snapshotter.Erofs.Tests.Infrastructure;

namespace Snapshotter.Lazy.Tests.Infrastructure;

/// <summary>
/// A multi-layer OCI image layout (uncompressed tar layers) and the tree it must unpack to: a big file of random data,
/// many small files, symlinks (relative, absolute, dangling), an xattr, hard links, a whiteout of a file and of a
/// directory, an opaque directory, a file replaced by a later layer, identical files (chunks deduplicated within a blob
/// and across layers) and a layer whose only file is empty (the converter drops its data blob). Optionally a layer of thousands of tiny distinct files, whose data blob is mostly chunk table.
/// </summary>
internal sealed class LazyTestImage
{
    public const string BigFile = "data/big.bin";
    public const string TinyDirectory = "tiny";

    private readonly int _bigFileSize;
    private readonly int _smallFiles;
    private readonly int _tinyFiles;
    private readonly int _seed;

    public LazyTestImage(int bigFileSize = 24 * 1024 * 1024, int smallFiles = 300, int tinyFiles = 0, int seed = 7001)
    {
        _bigFileSize = bigFileSize;
        _smallFiles = smallFiles;
        _tinyFiles = tinyFiles;
        _seed = seed;
    }

    /// <summary>Regular files of the final tree and their bytes.</summary>
    public Dictionary<string, byte[]> Files { get; } = new(StringComparer.Ordinal);

    /// <summary>Symlinks of the final tree and their targets.</summary>
    public Dictionary<string, string> Symlinks { get; } = new(StringComparer.Ordinal);

    /// <summary>Paths an earlier layer created and a later one removed.</summary>
    public List<string> Removed { get; } = [];

    /// <summary>Groups of paths that are one inode.</summary>
    public List<string[]> HardLinks { get; } = [];

    public (string Path, string Name, string Value) Xattr { get; } = ("x/with-xattr.txt", "user.lazy.test", "xattr value 42");

    /// <summary>The uncompressed tar layers, lowest first (filled by <see cref="WriteLayout"/>).</summary>
    public List<byte[]> Layers { get; } = [];

    /// <summary>Writes the OCI layout at <paramref name="layoutDir"/> tagged <paramref name="tag"/>; returns the manifest digest.</summary>
    public string WriteLayout(string layoutDir, string tag)
    {
        Files.Clear();
        Symlinks.Clear();
        Removed.Clear();
        HardLinks.Clear();
        Layers.Clear();
        var random = new Random(_seed);
        byte[] twin = [];
        Layers.Add(Layer(t =>
        {
            foreach (var dir in new[] { "data/", "small/", "links/", "x/", "opaque/", "gonedir/" })
            {
                t.Dir(dir);
            }

            AddFile(t, BigFile, Bytes(random, _bigFileSize));
            for (var i = 0; i < _smallFiles; i++)
            {
                AddFile(t, $"small/f{i:D4}.txt", Bytes(random, random.Next(1, 20_000)));
            }

            // Identical multi-chunk files: their chunks deduplicate within the blob (and across layers, below).
            twin = Bytes(random, (2 * 1024 * 1024) + (512 * 1024) + 3);
            AddFile(t, "data/twin-a", twin);
            AddFile(t, "data/twin-b", twin);
            AddFile(t, "deleted.txt", Encoding.UTF8.GetBytes("removed by a whiteout in layer 2\n"));
            AddFile(t, "gonedir/inner.txt", Encoding.UTF8.GetBytes("inside a directory removed by layer 2\n"));
            AddFile(t, "opaque/old.txt", Encoding.UTF8.GetBytes("hidden by an opaque directory in layer 2\n"));
            AddFile(t, "replaced.txt", Encoding.UTF8.GetBytes("version one\n"));
            AddFile(t, "data/hl-a", Encoding.UTF8.GetBytes("one inode, two names\n"));
            t.HardLink("data/hl-b", "data/hl-a");
            Files["data/hl-b"] = Files["data/hl-a"];
            HardLinks.Add(["data/hl-a", "data/hl-b"]);
            AddSymlink(t, "links/relative", "../" + BigFile);
            AddSymlink(t, "links/absolute", "/small/f0001.txt");
            AddSymlink(t, "links/dangling", "/nowhere/at/all");
            var content = Encoding.UTF8.GetBytes("this file carries a user xattr\n");
            t.File(Xattr.Path, content, attrs: new Dictionary<string, string> { ["SCHILY.xattr." + Xattr.Name] = Xattr.Value });
            Files[Xattr.Path] = content;
        }));
        Layers.Add(Layer(t =>
        {
            t.Whiteout(".wh.deleted.txt");
            Remove("deleted.txt");
            t.Whiteout(".wh.gonedir");
            Remove("gonedir/inner.txt");
            Removed.Add("gonedir");
            t.Whiteout("opaque/.wh..wh..opq");
            Remove("opaque/old.txt");
            AddFile(t, "opaque/new.txt", Encoding.UTF8.GetBytes("the only file of the opaque directory\n"));
            AddFile(t, "replaced.txt", Encoding.UTF8.GetBytes("version two, from layer 2, longer than one\n"));
            AddFile(t, "small/f0002.txt", Encoding.UTF8.GetBytes("replaced in layer 2\n"));
            AddFile(t, "layer2.bin", Bytes(random, (3 * 1024 * 1024) + 17));
            t.Dir("dup/");
            AddFile(t, "dup/twin-c", twin);
            AddFile(t, "dup/same-as-f0003.txt", Files["small/f0003.txt"]);
        }));
        Layers.Add(Layer(t =>
        {
            AddFile(t, "empty", []);
            if (_tinyFiles > 0)
            {
                t.Dir(TinyDirectory + "/");
                for (var i = 0; i < _tinyFiles; i++)
                {
                    // Distinct bytes per file: no chunk deduplicates away.
                    AddFile(t, $"{TinyDirectory}/t{i:D5}", BitConverter.GetBytes(i + (_seed << 16)));
                }
            }
        }));

        Directory.CreateDirectory(Path.Combine(layoutDir, "blobs", "sha256"));
        File.WriteAllText(Path.Combine(layoutDir, "oci-layout"), """{"imageLayoutVersion":"1.0.0"}""");
        var layerDescriptors = Layers.Select(l => Descriptor("application/vnd.oci.image.layer.v1.tar", WriteBlob(layoutDir, l), l.Length)).ToList();
        var diffIds = string.Join(",", Layers.Select(l => $"\"sha256:{Convert.ToHexStringLower(SHA256.HashData(l))}\""));
        var config = Encoding.UTF8.GetBytes($$$"""{"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/true"]},"rootfs":{"type":"layers","diff_ids":[{{{diffIds}}}]}}""");
        var configDescriptor = Descriptor("application/vnd.oci.image.config.v1+json", WriteBlob(layoutDir, config), config.Length);
        var manifest = Encoding.UTF8.GetBytes(
            $$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{configDescriptor}},"layers":[{{string.Join(",", layerDescriptors)}}]}""");
        var manifestDigest = WriteBlob(layoutDir, manifest);
        File.WriteAllText(
            Path.Combine(layoutDir, "index.json"),
            $$$"""{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{{{manifestDigest}}}","size":{{{manifest.Length}}},"annotations":{"org.opencontainers.image.ref.name":{{{JsonSerializer.Serialize(tag)}}}}}]}""");
        return manifestDigest;
    }

    private void Remove(string path)
    {
        Assert.True(Files.Remove(path), $"test image: {path} was not there to remove");
        Removed.Add(path);
    }

    private static string Descriptor(string mediaType, string digest, long size) =>
        $$"""{"mediaType":"{{mediaType}}","digest":"{{digest}}","size":{{size}}}""";

    private static string WriteBlob(string layoutDir, byte[] data)
    {
        var hex = Convert.ToHexStringLower(SHA256.HashData(data));
        File.WriteAllBytes(Path.Combine(layoutDir, "blobs", "sha256", hex), data);
        return "sha256:" + hex;
    }

    private static byte[] Bytes(Random random, int size)
    {
        var data = new byte[size];
        random.NextBytes(data);
        return data;
    }

    private static byte[] Layer(Action<TestLayers> write)
    {
        using var stream = new MemoryStream();
        using (var layers = new TestLayers(stream))
        {
            write(layers);
        }

        return stream.ToArray();
    }

    private void AddFile(TestLayers t, string path, byte[] data)
    {
        t.File(path, data);
        Files[path] = data;
    }

    private void AddSymlink(TestLayers t, string path, string target)
    {
        t.Symlink(path, target);
        Symlinks[path] = target;
    }
}
