using System.Buffers;
using System.IO.Compression;
using System.Text;

namespace Snapshotter.Erofs.Building;

/// <summary>
/// Builds a lazily pullable image: call <see cref="AddLayerAsync"/> once per OCI layer, bottom first
/// (each writes that layer's data blob while streaming the tar), then <see cref="BuildBootstrap"/> for
/// the one merged bootstrap. Identical chunks are stored once across all layers.
/// </summary>
public sealed class ImageBuilder
{
    private readonly ImageBuildOptions _options;
    private readonly FsInode _root = FsInode.NewDirectory();
    private readonly Dictionary<Hash256, ChunkRef> _chunks = [];
    private readonly List<DataBlobResult> _blobs = [];

    /// <summary>A builder with the default options (zstd, 1 MiB chunks); what the lazy component uses for an empty bootstrap.</summary>
    public ImageBuilder()
        : this(null)
    {
    }

    internal ImageBuilder(ImageBuildOptions? options)
    {
        _options = options ?? new ImageBuildOptions();
        _options.Validate();
    }

    /// <summary>The data blobs written so far, one per layer (some may hold no chunks).</summary>
    internal IReadOnlyList<DataBlobResult> Layers => _blobs;

    /// <summary>
    /// Applies one layer (a tar, gzip-compressed or not) on top of the previous ones and writes its data
    /// blob to <paramref name="blobOutput"/>. Hostile entries (paths escaping the root, links to missing
    /// targets, names EROFS cannot hold) raise <see cref="InvalidImageException"/>.
    /// </summary>
    internal async Task<DataBlobResult> AddLayerAsync(Stream layer, Stream blobOutput, CancellationToken cancellationToken = default)
    {
        int layerIndex = _blobs.Count;
        Stream tarStream = await OpenTarAsync(layer, cancellationToken).ConfigureAwait(false);
        using var writer = new DataBlobWriter(blobOutput, _options.Compressor, _options.Digester, _options.ChunkSize, layerIndex, _chunks);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(_options.ChunkSize);
        try
        {
            var reader = new LayerTarReader(tarStream);
            while (true)
            {
                LayerTarEntry? entry = null;
                try
                {
                    entry = await reader.NextAsync(cancellationToken).ConfigureAwait(false);
                    if (entry is null)
                    {
                        break;
                    }

                    await ApplyEntryAsync(entry, layerIndex, writer, buffer, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is InvalidImageException or InvalidDataException or EndOfStreamException)
                {
                    string where = entry is null ? $"layer {layerIndex}" : $"layer {layerIndex}: '{entry.Name}'";
                    throw new InvalidImageException($"{where}: {e.Message}", e);
                }
            }

            // The tar ends at its first zero block; read the rest (end-of-archive padding) too, so that a verifying
            // source sees the whole layer (its digest is checked at the end) and progress reaches the layer's size.
            await tarStream.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
            if (!ReferenceEquals(tarStream, layer))
            {
                await layer.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
            }

            DataBlobResult result = writer.Complete();
            _blobs.Add(result);
            return result;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (!ReferenceEquals(tarStream, layer))
            {
                await tarStream.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Serializes the merged tree of all layers added so far as an EROFS/RAFS v6 bootstrap.</summary>
    public byte[] BuildBootstrap() => BootstrapWriter.Build(_root, _blobs, _options.Compressor, _options.Digester, _options.ChunkSize);

    private static async Task<Stream> OpenTarAsync(Stream layer, CancellationToken cancellationToken)
    {
        byte[] magic = new byte[4];
        int n = await layer.ReadAtLeastAsync(magic, 4, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        var replay = new PrefixedStream(magic, n, layer);
        if (n >= 2 && magic[0] == 0x1F && magic[1] == 0x8B)
        {
            return new GZipStream(replay, CompressionMode.Decompress);
        }

        // zstd frame magic 0xFD2FB528, little-endian (OCI tar+zstd layers).
        return n == 4 && magic[0] == 0x28 && magic[1] == 0xB5 && magic[2] == 0x2F && magic[3] == 0xFD
            ? new Compression.ZstdDecompressionStream(replay)
            : replay;
    }

    private async Task ApplyEntryAsync(LayerTarEntry entry, int layer, DataBlobWriter writer, byte[] buffer, CancellationToken cancellationToken)
    {
        List<string> parts = NormalizePath(entry.Name);
        if (parts.Count == 0)
        {
            if (entry.Type == (byte)'5')
            {
                ApplyMetadata(_root, entry);
            }

            return;
        }

        string name = parts[^1];
        FsInode parent = EnsureParents(parts, layer, entry.Name);
        Dictionary<string, FsEntry> siblings = parent.Children!;

        // OCI whiteouts hide entries of lower layers only.
        if (name == ".wh..wh..opq")
        {
            PruneLower(parent, layer);
            return;
        }

        if (name.StartsWith(".wh.", StringComparison.Ordinal))
        {
            string hidden = name[4..];
            if (siblings.TryGetValue(hidden, out FsEntry? victim) && victim.Layer < layer)
            {
                siblings.Remove(hidden);
            }

            return;
        }

        switch (entry.Type)
        {
            case (byte)'5':
                if (siblings.TryGetValue(name, out FsEntry? existing) && existing.Inode.IsDirectory)
                {
                    ApplyMetadata(existing.Inode, entry);
                    existing.Layer = layer;
                }
                else
                {
                    FsInode dir = FsInode.NewDirectory();
                    ApplyMetadata(dir, entry);
                    siblings[name] = new FsEntry(dir, layer);
                }

                return;
            case (byte)'0' or 0 or (byte)'7':
                {
                    var file = new FsInode { Mode = ErofsFormat.ModeRegular };
                    ApplyMetadata(file, entry);
                    await ReadContentAsync(file, entry, writer, buffer, cancellationToken).ConfigureAwait(false);
                    siblings[name] = new FsEntry(file, layer);
                    return;
                }

            case (byte)'2':
                {
                    byte[] target = Encoding.UTF8.GetBytes(entry.LinkName);
                    if (target.Length == 0 || target.Length >= 4096)
                    {
                        throw new InvalidImageException($"symlink '{entry.Name}' has an empty target or one longer than PATH_MAX");
                    }

                    var link = new FsInode { Mode = ErofsFormat.ModeSymlink, SymlinkTarget = target, Size = (ulong)target.Length };
                    ApplyMetadata(link, entry);
                    link.Mode = ErofsFormat.ModeSymlink | 0x1FF;
                    siblings[name] = new FsEntry(link, layer);
                    return;
                }

            case (byte)'1':
                {
                    FsInode? target = Find(NormalizePath(entry.LinkName));
                    if (target is null || target.IsDirectory)
                    {
                        throw new InvalidImageException($"hard link '{entry.Name}' points to '{entry.LinkName}', which is missing or a directory");
                    }

                    siblings[name] = new FsEntry(target, layer);
                    return;
                }

            case (byte)'3' or (byte)'4' or (byte)'6':
                {
                    uint type = entry.Type switch
                    {
                        (byte)'3' => ErofsFormat.ModeCharDevice,
                        (byte)'4' => ErofsFormat.ModeBlockDevice,
                        _ => ErofsFormat.ModeFifo,
                    };
                    var node = new FsInode { Mode = type };
                    ApplyMetadata(node, entry);
                    if (type != ErofsFormat.ModeFifo)
                    {
                        node.Rdev = ErofsFormat.EncodeDevice(entry.DeviceMajor, entry.DeviceMinor);
                    }

                    siblings[name] = new FsEntry(node, layer);
                    return;
                }

            default:
                throw new InvalidImageException($"entry '{entry.Name}' has unsupported tar type '{(char)entry.Type}'");
        }
    }

    private async Task ReadContentAsync(FsInode file, LayerTarEntry entry, DataBlobWriter writer, byte[] buffer, CancellationToken cancellationToken)
    {
        file.Size = (ulong)entry.Size;
        if (entry.Size == 0)
        {
            return;
        }

        long count = ((entry.Size - 1) / _options.ChunkSize) + 1;
        if (count > int.MaxValue)
        {
            throw new InvalidImageException($"'{entry.Name}' is too large");
        }

        // The writer fills the slots (digest, dedup, placement) on its pipeline thread; segments are
        // allocated only once their data has arrived.
        file.Chunks = [];
        long total = 0;
        for (long index = 0; index < count; index++)
        {
            int want = (int)Math.Min(_options.ChunkSize, entry.Size - total);
            await entry.Data.ReadExactlyAsync(buffer.AsMemory(0, want), cancellationToken).ConfigureAwait(false);
            total += want;
            int slot = (int)(index % FsInode.ChunkSegmentSize);
            if (slot == 0)
            {
                file.Chunks.Add(new ChunkRef[Math.Min(FsInode.ChunkSegmentSize, count - index)]);
            }

            writer.AddChunk(buffer.AsSpan(0, want), file.Chunks[^1], slot);
        }
    }

    private static void ApplyMetadata(FsInode inode, LayerTarEntry entry)
    {
        inode.Mode = (inode.Mode & ErofsFormat.ModeTypeMask) | entry.Mode;
        inode.Ownership = entry.Ownership;
        inode.Xattrs = entry.Xattrs;
    }

    private FsInode EnsureParents(List<string> parts, int layer, string original)
    {
        FsInode current = _root;
        for (int i = 0; i < parts.Count - 1; i++)
        {
            if (!current.Children!.TryGetValue(parts[i], out FsEntry? next))
            {
                FsInode dir = FsInode.NewDirectory();
                next = new FsEntry(dir, layer);
                current.Children[parts[i]] = next;
            }
            else if (!next.Inode.IsDirectory)
            {
                throw new InvalidImageException($"'{original}': parent '{string.Join('/', parts.Take(i + 1))}' is not a directory");
            }

            current = next.Inode;
        }

        return current;
    }

    private FsInode? Find(List<string> parts)
    {
        FsInode current = _root;
        foreach (string part in parts)
        {
            if (current.Children is null || !current.Children.TryGetValue(part, out FsEntry? next))
            {
                return null;
            }

            current = next.Inode;
        }

        return current;
    }

    private static void PruneLower(FsInode directory, int layer)
    {
        foreach ((string name, FsEntry entry) in directory.Children!.ToList())
        {
            if (entry.Layer < layer)
            {
                directory.Children!.Remove(name);
            }
            else if (entry.Inode.IsDirectory)
            {
                PruneLower(entry.Inode, layer);
            }
        }
    }

    /// <summary>Splits a tar path into components; absolute paths are re-rooted, '..' may not leave the root.</summary>
    private static List<string> NormalizePath(string path)
    {
        var parts = new List<string>();
        foreach (string part in path.Split('/'))
        {
            if (part.Length == 0 || part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                if (parts.Count == 0)
                {
                    throw new InvalidImageException($"path '{path}' escapes the image root");
                }

                parts.RemoveAt(parts.Count - 1);
                continue;
            }

            if (Encoding.UTF8.GetByteCount(part) > ErofsFormat.MaxNameLength || part.Contains('\0'))
            {
                throw new InvalidImageException($"path '{path}' has a component EROFS cannot store (longer than 255 bytes or containing NUL)");
            }

            parts.Add(part);
        }

        return parts;
    }
}
