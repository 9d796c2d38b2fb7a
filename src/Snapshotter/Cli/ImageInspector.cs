using System.Text;
using Snapshotter.Erofs;
using Snapshotter.Erofs.Conversion;
using Snapshotter.Erofs.Reading;
using Snapshotter.Lazy.Conversion;

namespace Snapshotter.Cli;

/// <summary>
/// The logic behind <c>snapshotter inspect</c>: opens a bootstrap (a file, or the bootstrap layer of an
/// <c>oci:PATH[:TAG]</c> or registry image), prints its blobs, optionally lists every entry or writes one file.
/// Data blobs are looked up in a directory by their device tag (an OCI layout's <c>blobs/sha256</c> fits).
/// </summary>
internal static class ImageInspector
{
    public static async Task<int> RunAsync(string image, string? blobDirectory, bool list, string? catPath, TextWriter output, Stream rawOutput, CancellationToken cancellationToken = default)
    {
        string? tempBootstrap = null;
        string? tempBlobs = null;
        (IImageSource? source, string? layoutBlobs, RegistryClient? client) = OpenSource(image);
        try
        {
            string bootstrapPath = image;
            blobDirectory ??= layoutBlobs;
            if (source is not null)
            {
                SourceImage resolved = await source.ResolveAsync(null, cancellationToken).ConfigureAwait(false);
                tempBootstrap = bootstrapPath = await ExtractBootstrapAsync(source, resolved, image, cancellationToken).ConfigureAwait(false);
                if (catPath is not null && blobDirectory is null)
                {
                    // A registry image: fetch its data blobs (digest-verified) so that --cat can read the file.
                    tempBlobs = blobDirectory = await FetchDataBlobsAsync(source, resolved, cancellationToken).ConfigureAwait(false);
                }
            }

            using ErofsImage erofs = ErofsImage.Open(bootstrapPath);
            if (catPath is null)
            {
                PrintSummary(erofs, output);
            }

            if (list)
            {
                foreach (ErofsEntry entry in erofs.Walk())
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    output.WriteLine(FormatEntry(erofs, entry));
                }
            }

            if (catPath is not null)
            {
                await CatAsync(erofs, catPath, blobDirectory, rawOutput, cancellationToken).ConfigureAwait(false);
            }

            return 0;
        }
        finally
        {
            if (tempBootstrap is not null)
            {
                File.Delete(tempBootstrap);
            }

            if (tempBlobs is not null)
            {
                Directory.Delete(tempBlobs, recursive: true);
            }

            client?.Dispose();
        }
    }

    /// <summary>
    /// An OCI layout (its <c>blobs/sha256</c> holds the data blobs) or a registry image; no source for a bootstrap file.
    /// </summary>
    private static (IImageSource? Source, string? BlobDirectory, RegistryClient? Client) OpenSource(string image)
    {
        if (OciLayoutReference.IsLayout(image))
        {
            OciLayoutReference reference = OciLayoutReference.Parse(image);
            return (new OciLayout(reference), Path.Combine(reference.LayoutPath, "blobs", "sha256"), null);
        }

        if (File.Exists(image))
        {
            return (null, null, null);
        }

        if (!ImageReference.TryParse(image, out var remote, out var error))
        {
            throw new NotSupportedException($"'{image}' is neither a bootstrap file, oci:PATH[:TAG] nor a registry reference ({error})");
        }

        var client = new RegistryClient();
        return (new RegistryImageSource(client, remote), null, client);
    }

    /// <summary>Extracts the image's bootstrap into a temporary file and returns its path.</summary>
    private static async Task<string> ExtractBootstrapAsync(IImageSource source, SourceImage resolved, string image, CancellationToken cancellationToken)
    {
        Descriptor bootstrapLayer = resolved.Layers.LastOrDefault(l => l.Annotations.GetValueOrDefault(NydusAnnotations.Bootstrap) == "true")
            ?? throw new InvalidImageException($"{image} has no layer annotated {NydusAnnotations.Bootstrap}");
        string path = Path.GetTempFileName();
        await using (Stream layer = await source.OpenBlobAsync(bootstrapLayer, cancellationToken).ConfigureAwait(false))
        await using (var file = File.Create(path))
        {
            await ImageConverter.ExtractBootstrapAsync(layer, file, cancellationToken).ConfigureAwait(false);
        }

        return path;
    }

    /// <summary>Downloads the image's data blobs into a temporary directory, each named by its digest's hex (the device tag).</summary>
    private static async Task<string> FetchDataBlobsAsync(IImageSource source, SourceImage resolved, CancellationToken cancellationToken)
    {
        string directory = Directory.CreateTempSubdirectory("inspect-blobs").FullName;
        foreach (Descriptor blob in resolved.Layers.Where(l => l.Annotations.GetValueOrDefault(NydusAnnotations.Blob) == "true"))
        {
            await using Stream content = await source.OpenBlobAsync(blob, cancellationToken).ConfigureAwait(false);
            await using var file = File.Create(Path.Combine(directory, OciDigest.Hex(blob.Digest)));
            await content.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
        }

        return directory;
    }

    /// <summary>One <c>--ls</c> line: <c>mode uid gid size path[ -> target]</c>, mode in octal with the type bits.</summary>
    public static string FormatEntry(ErofsImage image, ErofsEntry entry)
    {
        ErofsInode inode = entry.Inode;
        var line = new StringBuilder();
        line.Append(Convert.ToString(inode.Mode, 8).PadLeft(6, '0')).Append(' ')
            .Append(inode.Uid).Append(' ').Append(inode.Gid).Append(' ').Append(inode.Size).Append(' ').Append(entry.Path);
        if (inode.IsSymlink)
        {
            line.Append(" -> ").Append(image.ReadSymlink(inode));
        }

        return line.ToString();
    }

    private static void PrintSummary(ErofsImage image, TextWriter output)
    {
        output.WriteLine($"bootstrap: {(image.Superblock.IsRafsV6 ? "RAFS v6 / EROFS" : "EROFS")}, {image.Superblock.InodeCount} inodes, {image.Superblock.Blocks} blocks");
        for (int i = 0; i < image.Devices.Count; i++)
        {
            ErofsDevice device = image.Devices[i];
            RafsBlobInfo? blob = i < image.Blobs.Count ? image.Blobs[i] : null;
            output.WriteLine(blob is null
                ? $"blob {device.DeviceId}: {device.Tag} uncompressed={(long)device.Blocks * 4096}"
                : $"blob {device.DeviceId}: {device.Tag} chunks={blob.ChunkCount} chunk-size={blob.ChunkSize} compressor={blob.Compressor} compressed={blob.CompressedSize} uncompressed={blob.UncompressedSize}");
        }
    }

    private static async Task CatAsync(ErofsImage image, string path, string? blobDirectory, Stream output, CancellationToken cancellationToken)
    {
        ErofsInode inode = image.Lookup(path) ?? throw new FileNotFoundException($"{path}: no such file in the image");
        if (!inode.IsRegularFile)
        {
            throw new InvalidImageException($"{path} is not a regular file");
        }

        var devices = new List<IRandomAccessSource>();
        try
        {
            for (int i = 0; i < image.Devices.Count; i++)
            {
                string tag = image.Devices[i].Tag;
                string? file = blobDirectory is null ? null : Path.Combine(blobDirectory, tag);
                if (file is null || tag.Contains('/') || !File.Exists(file))
                {
                    throw new FileNotFoundException($"data blob {tag} not found{(blobDirectory is null ? " (use --blob-dir)" : " in " + blobDirectory)}");
                }

                devices.Add(i < image.Blobs.Count ? DataBlob.Open(file, image.Blobs[i].Compressor, image.Blobs[i].Digester) : new FileSource(file));
            }

            byte[] buffer = new byte[1 << 20];
            for (long pos = 0; pos < (long)inode.Size;)
            {
                int n = image.ReadFile(inode, pos, buffer, devices);
                await output.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                pos += n;
            }

            await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            foreach (IRandomAccessSource device in devices)
            {
                (device as IDisposable)?.Dispose();
            }
        }
    }
}
