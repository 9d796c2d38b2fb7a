using System.Buffers;
using System.Formats.Tar;
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

    public ImageBuilder(ImageBuildOptions? options = null)
    {
        _options = options ?? new ImageBuildOptions();
        _options.Validate();
    }

    /// <summary>The data blobs written so far, one per layer (some may hold no chunks).</summary>
    public IReadOnlyList<DataBlobResult> Layers => _blobs;

    /// <summary>
    /// Applies one layer (a tar, gzip-compressed or not) on top of the previous ones and writes its data
    /// blob to <paramref name="blobOutput"/>. Hostile entries (paths escaping the root, links to missing
    /// targets, names EROFS cannot hold) raise <see cref="InvalidImageException"/>.
    /// </summary>
    public async Task<DataBlobResult> AddLayerAsync(Stream layer, Stream blobOutput, CancellationToken cancellationToken = default)
    {
        int layerIndex = _blobs.Count;
        Stream tarStream = await OpenTarAsync(layer, cancellationToken).ConfigureAwait(false);
        using var writer = new DataBlobWriter(blobOutput, _options.Compressor, _options.ChunkSize, layerIndex, _chunks);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(_options.ChunkSize);
        try
        {
            using var reader = new TarReader(tarStream, leaveOpen: true);
            while (true)
            {
                TarEntry? entry;
                try
                {
                    entry = await reader.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is FormatException or InvalidDataException or EndOfStreamException or InvalidOperationException)
                {
                    // TarReader reports oversized or truncated headers as InvalidOperationException.
                    throw new InvalidImageException($"layer {layerIndex}: malformed tar: {e.Message}", e);
                }

                if (entry is null)
                {
                    break;
                }

                try
                {
                    await ApplyEntryAsync(entry, layerIndex, writer, buffer, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
                {
                    throw new InvalidImageException($"layer {layerIndex}: '{entry.Name}': truncated or corrupt data: {e.Message}", e);
                }
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
    public byte[] BuildBootstrap() => BootstrapWriter.Build(_root, _blobs, _options.Compressor, _options.ChunkSize);

    private static async Task<Stream> OpenTarAsync(Stream layer, CancellationToken cancellationToken)
    {
        byte[] magic = new byte[2];
        int n = await layer.ReadAtLeastAsync(magic, 2, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        var replay = new PrefixedStream(magic, n, layer);
        return n == 2 && magic[0] == 0x1F && magic[1] == 0x8B ? new GZipStream(replay, CompressionMode.Decompress) : replay;
    }

    private async Task ApplyEntryAsync(TarEntry entry, int layer, DataBlobWriter writer, byte[] buffer, CancellationToken cancellationToken)
    {
        List<string> parts = NormalizePath(entry.Name, layer);
        if (entry.EntryType is TarEntryType.GlobalExtendedAttributes)
        {
            return;
        }

        if (parts.Count == 0)
        {
            if (entry.EntryType == TarEntryType.Directory)
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

        switch (entry.EntryType)
        {
            case TarEntryType.Directory:
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
            case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                {
                    var file = new FsInode { Mode = 0x8000 };
                    ApplyMetadata(file, entry);
                    await ReadContentAsync(file, entry, layer, writer, buffer, cancellationToken).ConfigureAwait(false);
                    siblings[name] = new FsEntry(file, layer);
                    return;
                }

            case TarEntryType.SymbolicLink:
                {
                    if (string.IsNullOrEmpty(entry.LinkName))
                    {
                        throw new InvalidImageException($"layer {layer}: symlink '{entry.Name}' has an empty target");
                    }

                    byte[] target = Encoding.UTF8.GetBytes(entry.LinkName);
                    if (target.Length >= 4096)
                    {
                        throw new InvalidImageException($"layer {layer}: symlink '{entry.Name}' target is longer than PATH_MAX");
                    }

                    var link = new FsInode { Mode = 0xA000, SymlinkTarget = target, Size = (ulong)target.Length };
                    ApplyMetadata(link, entry);
                    link.Mode = 0xA000 | 0x1FF;
                    siblings[name] = new FsEntry(link, layer);
                    return;
                }

            case TarEntryType.HardLink:
                {
                    List<string> targetParts = NormalizePath(entry.LinkName, layer);
                    FsInode? target = Find(targetParts);
                    if (target is null || target.IsDirectory)
                    {
                        throw new InvalidImageException($"layer {layer}: hard link '{entry.Name}' points to '{entry.LinkName}', which is missing or a directory");
                    }

                    siblings[name] = new FsEntry(target, layer);
                    return;
                }

            case TarEntryType.CharacterDevice or TarEntryType.BlockDevice or TarEntryType.Fifo:
                {
                    uint type = entry.EntryType switch
                    {
                        TarEntryType.CharacterDevice => 0x2000u,
                        TarEntryType.BlockDevice => 0x6000u,
                        _ => 0x1000u,
                    };
                    var node = new FsInode { Mode = type };
                    ApplyMetadata(node, entry);
                    if (entry is PosixTarEntry posix && type != 0x1000)
                    {
                        node.Rdev = Format.ErofsFormat.EncodeDevice((uint)posix.DeviceMajor, (uint)posix.DeviceMinor);
                    }

                    siblings[name] = new FsEntry(node, layer);
                    return;
                }

            default:
                throw new InvalidImageException($"layer {layer}: entry '{entry.Name}' has unsupported tar type {entry.EntryType}");
        }
    }

    private async Task ReadContentAsync(FsInode file, TarEntry entry, int layer, DataBlobWriter writer, byte[] buffer, CancellationToken cancellationToken)
    {
        file.Size = (ulong)entry.Length;
        if (entry.Length == 0 || entry.DataStream is null)
        {
            return;
        }

        long count = ((entry.Length - 1) / _options.ChunkSize) + 1;
        if (count > int.MaxValue)
        {
            throw new InvalidImageException($"layer {layer}: '{entry.Name}' is too large");
        }

        // The writer fills the slots (digest, dedup, placement) on its pipeline thread.
        file.Chunks = new ChunkRef[count];
        Stream data = entry.DataStream;
        long total = 0;
        for (int index = 0; index < count; index++)
        {
            int want = (int)Math.Min(_options.ChunkSize, entry.Length - total);
            int n = await data.ReadAtLeastAsync(buffer.AsMemory(0, want), want, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            if (n != want)
            {
                throw new InvalidImageException($"layer {layer}: '{entry.Name}' is truncated ({total + n} of {entry.Length} bytes)");
            }

            total += n;
            writer.AddChunk(buffer.AsSpan(0, n), file.Chunks, index);
        }
    }

    private static void ApplyMetadata(FsInode inode, TarEntry entry)
    {
        inode.Mode = (inode.Mode & 0xF000) | ((uint)entry.Mode & 0xFFF);
        inode.Uid = (uint)entry.Uid;
        inode.Gid = (uint)entry.Gid;
        long ticks = entry.ModificationTime.UtcTicks - DateTime.UnixEpoch.Ticks;
        inode.MtimeSeconds = Math.DivRem(ticks, TimeSpan.TicksPerSecond, out long rest);
        if (rest < 0)
        {
            inode.MtimeSeconds--;
            rest += TimeSpan.TicksPerSecond;
        }

        inode.MtimeNanoseconds = (uint)(rest * 100);
        inode.Xattrs = null;
        if (entry is PaxTarEntry pax)
        {
            foreach ((string key, string value) in pax.ExtendedAttributes)
            {
                if (key.StartsWith("SCHILY.xattr.", StringComparison.Ordinal))
                {
                    (inode.Xattrs ??= []).Add(new(key["SCHILY.xattr.".Length..], Encoding.UTF8.GetBytes(value)));
                }
            }

            inode.Xattrs?.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        }
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
                throw new InvalidImageException($"layer {layer}: '{original}': parent '{string.Join('/', parts.Take(i + 1))}' is not a directory");
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
    private static List<string> NormalizePath(string path, int layer)
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
                    throw new InvalidImageException($"layer {layer}: path '{path}' escapes the image root");
                }

                parts.RemoveAt(parts.Count - 1);
                continue;
            }

            if (Encoding.UTF8.GetByteCount(part) > Format.ErofsFormat.MaxNameLength || part.Contains('\0'))
            {
                throw new InvalidImageException($"layer {layer}: path '{path}' has a component EROFS cannot store (longer than 255 bytes or containing NUL)");
            }

            parts.Add(part);
        }

        return parts;
    }
}
