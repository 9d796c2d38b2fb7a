using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Snapshotter.KernelTests.Images;

/// <summary>
/// Writes a multi-layer OCI image layout (uncompressed tar layers written with System.Formats.Tar) and keeps the
/// expected final tree: a 64 MiB file, hundreds of small files, symlinks (relative, absolute, dangling), an xattr,
/// a whiteout and a replaced file across layers.
/// </summary>
internal sealed class TestImageBuilder
{
    public const string BigFile = "data/big64.bin";

    public Dictionary<string, byte[]> Files { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, string> Symlinks { get; } = new(StringComparer.Ordinal);

    public (string Path, string Name, string Value) Xattr { get; } = ("x/xattr.txt", "user.lazy", "hello-xattr");

    public string Write(string layoutDir, string tag)
    {
        var random = new Random(2024);
        var layers = new List<byte[]>
        {
            Layer(w =>
            {
                foreach (var dir in new[] { "data/", "small/", "links/", "x/" })
                {
                    w.WriteEntry(new PaxTarEntry(TarEntryType.Directory, dir) { Mode = (UnixFileMode)0x1ED });
                }

                AddFile(w, BigFile, Bytes(random, 64 * 1024 * 1024));
                for (var i = 0; i < 400; i++)
                {
                    AddFile(w, $"small/f{i:D4}.txt", Bytes(random, random.Next(1, 20000)));
                }

                AddFile(w, "deleted.txt", "gone soon"u8.ToArray());
                AddSymlink(w, "links/relative", "../data/big64.bin");
                AddSymlink(w, "links/absolute", "/small/f0001.txt");
                AddSymlink(w, "links/dangling", "/nowhere/at/all");
                var entry = new PaxTarEntry(TarEntryType.RegularFile, Xattr.Path, new Dictionary<string, string> { [$"SCHILY.xattr.{Xattr.Name}"] = Xattr.Value })
                {
                    DataStream = new MemoryStream("has an xattr"u8.ToArray()),
                    Mode = (UnixFileMode)0x1A4,
                };
                w.WriteEntry(entry);
                Files[Xattr.Path] = "has an xattr"u8.ToArray();
            }),
            Layer(w =>
            {
                w.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, ".wh.deleted.txt") { DataStream = new MemoryStream() });
                Files.Remove("deleted.txt");
                AddFile(w, "small/f0002.txt", "replaced in layer 2"u8.ToArray());
                AddFile(w, "layer2.txt", Bytes(random, 3 * 1024 * 1024));
            }),
            Layer(w => AddFile(w, "empty", [])),
        };

        Directory.CreateDirectory(Path.Combine(layoutDir, "blobs", "sha256"));
        File.WriteAllText(Path.Combine(layoutDir, "oci-layout"), """{"imageLayoutVersion":"1.0.0"}""");
        var layerDescriptors = layers.Select(l => Descriptor("application/vnd.oci.image.layer.v1.tar", WriteBlob(layoutDir, l), l.Length)).ToList();
        var diffIds = string.Join(",", layers.Select(l => $"\"sha256:{Convert.ToHexStringLower(SHA256.HashData(l))}\""));
        var config = Encoding.UTF8.GetBytes($$$"""{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[{{{diffIds}}}]}}""");
        var configDescriptor = Descriptor("application/vnd.oci.image.config.v1+json", WriteBlob(layoutDir, config), config.Length);
        var manifest = Encoding.UTF8.GetBytes(
            $$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{configDescriptor}},"layers":[{{string.Join(",", layerDescriptors)}}]}""");
        var manifestDigest = WriteBlob(layoutDir, manifest);
        File.WriteAllText(
            Path.Combine(layoutDir, "index.json"),
            $$$"""{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{{{manifestDigest}}}","size":{{{manifest.Length}}},"annotations":{"org.opencontainers.image.ref.name":{{{JsonSerializer.Serialize(tag)}}}}}]}""");
        return manifestDigest;
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

    private static byte[] Layer(Action<TarWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new TarWriter(stream, TarEntryFormat.Pax, leaveOpen: true))
        {
            write(writer);
        }

        return stream.ToArray();
    }

    private void AddFile(TarWriter writer, string path, byte[] data)
    {
        writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, path) { DataStream = new MemoryStream(data), Mode = (UnixFileMode)0x1A4 });
        Files[path] = data;
    }

    private void AddSymlink(TarWriter writer, string path, string target)
    {
        writer.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, path) { LinkName = target });
        Symlinks[path] = target;
    }
}
