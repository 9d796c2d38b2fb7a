using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;
using Snapshotter.Erofs.Conversion;
using Snapshotter.Oci;

namespace Snapshotter.P1.Benchmarks.Image;

/// <summary>
/// Writes the benchmark image (<see cref="BenchImageSpec"/>) as an OCI layout with gzip layers (as <c>docker push</c>
/// stores them), once: later runs reuse <c>&lt;cache&gt;/&lt;version&gt;/oci</c> and its <c>image.json</c>.
/// </summary>
internal static class ImageGenerator
{
    public const string LayerMediaType = "application/vnd.oci.image.layer.v1.tar+gzip";
    public const string ConfigMediaType = "application/vnd.oci.image.config.v1+json";

    private static readonly DateTimeOffset MTime = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static async Task<GeneratedImage> EnsureAsync(string cacheDirectory, TextWriter log, CancellationToken cancellationToken = default)
    {
        var root = Path.Combine(cacheDirectory, BenchImageSpec.Version);
        var summary = Path.Combine(root, "image.json");
        if (File.Exists(summary))
        {
            return JsonSerializer.Deserialize<GeneratedImage>(await File.ReadAllTextAsync(summary, cancellationToken), Json)
                ?? throw new InvalidDataException($"{summary} is empty");
        }

        var layout = Path.Combine(root, "oci");
        var (layers, entries) = await GenerateAsync(layout, BenchImageSpec.Layers(), log, cancellationToken);
        var osRelease = entries["etc/os-release"];
        var expected = (await File.ReadAllLinesAsync(osRelease.HostPath!, cancellationToken)).ToList();
        expected.Add(Math.Min(BenchImageSpec.BigFileRead, entries[BenchImageSpec.BigFile.TrimStart('/')].Size).ToString(System.Globalization.CultureInfo.InvariantCulture));
        expected.Add("ready");
        var image = new GeneratedImage(layout, BenchImageSpec.Tag, layers, Reads(entries), expected);
        await File.WriteAllTextAsync(summary, JsonSerializer.Serialize(image, Json), cancellationToken);
        return image;
    }

    /// <summary>
    /// The warm-up image (<see cref="BenchImageSpec.WarmLayers"/>): pulled, run and removed before a sample's clock
    /// starts, so the service and containerd run warm code paths, as a daemon that has pulled an image before.
    /// </summary>
    public static async Task<string> EnsureWarmAsync(string cacheDirectory, TextWriter log, CancellationToken cancellationToken = default)
    {
        var layout = Path.Combine(cacheDirectory, BenchImageSpec.Version, "warm-oci");
        var done = Path.Combine(layout, "done");
        if (!File.Exists(done))
        {
            await GenerateAsync(layout, BenchImageSpec.WarmLayers(), log, cancellationToken);
            await File.WriteAllTextAsync(done, string.Empty, cancellationToken);
        }

        return layout;
    }

    /// <summary>Writes <paramref name="specs"/> as an OCI layout tagged <see cref="BenchImageSpec.Tag"/>; returns the layers and every entry.</summary>
    private static async Task<(List<LayerInfo> Layers, Dictionary<string, ImageEntry> Entries)> GenerateAsync(
        string layout, IReadOnlyList<LayerSpec> specs, TextWriter log, CancellationToken cancellationToken)
    {
        if (Directory.Exists(layout))
        {
            Directory.Delete(layout, recursive: true);
        }

        Directory.CreateDirectory(layout);
        var sink = new OciLayout(layout, BenchImageSpec.Tag);
        var layers = new List<LayerInfo>();
        var entries = new Dictionary<string, ImageEntry>(StringComparer.Ordinal);
        foreach (var spec in specs)
        {
            var layer = Collect(spec);
            foreach (var e in layer)
            {
                entries[e.Key] = e.Value;
            }

            log.WriteLine($"image: writing layer '{spec.Name}' ({layer.Values.Count(e => e.Kind == ImageEntryKind.File)} files)...");
            layers.Add(await WriteLayerAsync(spec.Name, layer.Values, sink, cancellationToken));
        }

        var config = new JsonObject
        {
            ["architecture"] = "amd64",
            ["os"] = "linux",
            ["config"] = new JsonObject { ["Env"] = new JsonArray("PATH=/bin:/usr/bin"), ["WorkingDir"] = "/" },
            ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = new JsonArray(layers.Select(l => (JsonNode)l.DiffId).ToArray()) },
            ["history"] = new JsonArray(layers.Select(l => (JsonNode)new JsonObject { ["created_by"] = "bench/p1: " + l.Name }).ToArray()),
        };
        var configBytes = JsonSerializer.SerializeToUtf8Bytes(config);
        var configDescriptor = new Descriptor(ConfigMediaType, Sha256(configBytes), configBytes.Length);
        await sink.PutBlobAsync(configDescriptor, new MemoryStream(configBytes), cancellationToken);
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = MediaTypes.OciManifest,
            ["config"] = DescriptorJson.ToJson(configDescriptor),
            ["layers"] = new JsonArray(layers.Select(l => DescriptorJson.ToJson(new Descriptor(LayerMediaType, l.Digest, l.GzipBytes))).ToArray()),
        };
        var manifestBytes = JsonSerializer.SerializeToUtf8Bytes(manifest);
        await sink.PutManifestAsync(new Descriptor(MediaTypes.OciManifest, Sha256(manifestBytes), manifestBytes.Length), manifestBytes, cancellationToken);
        return (layers, entries);
    }

    /// <summary>The command's reads: busybox (exec'd), os-release, the small files, part of the big file.</summary>
    private static List<FileRead> Reads(Dictionary<string, ImageEntry> entries)
    {
        long SizeOf(string path) => entries.TryGetValue(path.TrimStart('/'), out var e) && e.Kind == ImageEntryKind.File
            ? e.Size
            : throw new InvalidDataException($"the benchmark command reads {path}, which is not a regular file of the generated image");

        var reads = new List<FileRead> { new("/bin/busybox", SizeOf("/bin/busybox")), new("/etc/os-release", SizeOf("/etc/os-release")) };
        reads.AddRange(BenchImageSpec.SmallFiles.Select(f => new FileRead(f, SizeOf(f))));
        reads.Add(new FileRead(BenchImageSpec.BigFile, Math.Min(BenchImageSpec.BigFileRead, SizeOf(BenchImageSpec.BigFile))));
        return reads;
    }

    /// <summary>Every entry of <paramref name="spec"/> keyed by its relative path, with the parent directories.</summary>
    private static SortedDictionary<string, ImageEntry> Collect(LayerSpec spec)
    {
        var entries = new SortedDictionary<string, ImageEntry>(StringComparer.Ordinal);
        void Add(ImageEntry entry)
        {
            var path = entry.Path.TrimStart('/');
            entries[path] = entry with { Path = path };
            for (var parent = Path.GetDirectoryName(path); !string.IsNullOrEmpty(parent); parent = Path.GetDirectoryName(parent))
            {
                entries.TryAdd(parent, new ImageEntry(parent, ImageEntryKind.Directory, (UnixFileMode)0x1ED, 0));
            }
        }

        foreach (var (path, content, mode) in spec.Files)
        {
            Add(new ImageEntry(path, ImageEntryKind.File, mode, content.Length, Content: content));
        }

        foreach (var (host, path) in spec.HostFiles)
        {
            var info = new FileInfo(host);
            var target = info.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? info;
            Add(new ImageEntry(path, ImageEntryKind.File, target.UnixFileMode, target.Length, HostPath: target.FullName));
        }

        foreach (var (path, target) in spec.Symlinks)
        {
            Add(new ImageEntry(path, ImageEntryKind.Symlink, (UnixFileMode)0x1FF, 0, LinkTarget: target));
        }

        var budget = spec.BudgetBytes;
        foreach (var tree in spec.Trees)
        {
            foreach (var (host, relative) in Walk(tree.HostPath))
            {
                var info = new FileInfo(host);
                var path = tree.ImagePath + "/" + relative;
                if (budget <= 0)
                {
                    break;
                }

                if (info.LinkTarget is { } link)
                {
                    Add(new ImageEntry(path, ImageEntryKind.Symlink, (UnixFileMode)0x1FF, 0, LinkTarget: link));
                }
                else if (info.Length <= tree.MaxFileBytes && (tree.NameContains is null || info.Name.Contains(tree.NameContains, StringComparison.Ordinal)))
                {
                    // The first file that does not fit ends the layer's budgeted trees (no skipping ahead to smaller ones).
                    if (info.Length > budget)
                    {
                        budget = 0;
                        break;
                    }

                    budget -= info.Length;
                    Add(new ImageEntry(path, ImageEntryKind.File, info.UnixFileMode, info.Length, HostPath: host));
                }
            }
        }

        return entries;
    }

    /// <summary>Regular files and symlinks under <paramref name="root"/> (symlinked directories are not followed), in ordinal path order.</summary>
    private static List<(string Host, string Relative)> Walk(string root)
    {
        var found = new List<(string, string)>();
        void Visit(DirectoryInfo dir)
        {
            foreach (var info in dir.EnumerateFileSystemInfos())
            {
                if (info.LinkTarget is null && info is DirectoryInfo sub)
                {
                    Visit(sub);
                }
                else
                {
                    found.Add((info.FullName, Path.GetRelativePath(root, info.FullName)));
                }
            }
        }

        Visit(new DirectoryInfo(root));
        found.Sort((a, b) => StringComparer.Ordinal.Compare(a.Item2, b.Item2));
        return found;
    }

    private static async Task<LayerInfo> WriteLayerAsync(string name, IEnumerable<ImageEntry> entries, OciLayout sink, CancellationToken cancellationToken)
    {
        var temp = Path.GetTempFileName();
        try
        {
            LayerInfo info;
            await using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            {
                var blob = new HashingStream(file, leaveOpen: true);
                var gzip = new GZipStream(blob, CompressionLevel.Optimal, leaveOpen: true);
                var tar = new HashingStream(gzip, leaveOpen: true);
                int files = 0;
                long fileBytes = 0;
                using (var writer = new TarWriter(tar, TarEntryFormat.Gnu, leaveOpen: true))
                {
                    foreach (var e in entries)
                    {
                        var entry = e.Kind switch
                        {
                            ImageEntryKind.Directory => new GnuTarEntry(TarEntryType.Directory, e.Path + "/"),
                            ImageEntryKind.Symlink => new GnuTarEntry(TarEntryType.SymbolicLink, e.Path) { LinkName = e.LinkTarget! },
                            _ => new GnuTarEntry(TarEntryType.RegularFile, e.Path),
                        };
                        entry.Mode = e.Mode;
                        entry.ModificationTime = MTime;
                        entry.Uid = 0;
                        entry.Gid = 0;
                        if (e.Kind == ImageEntryKind.File)
                        {
                            using var data = e.Content is { } c ? new MemoryStream(c) : (Stream)File.OpenRead(e.HostPath!);
                            entry.DataStream = data;
                            await writer.WriteEntryAsync(entry, cancellationToken);
                            files++;
                            fileBytes += e.Size;
                        }
                        else
                        {
                            await writer.WriteEntryAsync(entry, cancellationToken);
                        }
                    }
                }

                var (diffId, tarBytes) = (tar.Digest(), tar.Written);
                tar.Dispose();
                gzip.Dispose();
                info = new LayerInfo(name, files, fileBytes, tarBytes, diffId, blob.Digest(), blob.Written);
                blob.Dispose();
            }

            await using (var read = File.OpenRead(temp))
            {
                await sink.PutBlobAsync(new Descriptor(LayerMediaType, info.Digest, info.GzipBytes), read, cancellationToken);
            }

            return info;
        }
        finally
        {
            File.Delete(temp);
        }
    }

    private static string Sha256(byte[] data) => "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(data));
}
