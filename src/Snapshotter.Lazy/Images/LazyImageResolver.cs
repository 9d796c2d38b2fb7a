using System.Security.Cryptography;
using Snapshotter.Core.Remote;
using Snapshotter.Erofs;
using Snapshotter.Erofs.Reading;
using Snapshotter.Lazy.Blobs;
using Snapshotter.Registry;
using Snapshotter.Oci;

namespace Snapshotter.Lazy.Images;

/// <summary>
/// The one place that turns an image (bootstrap + layers) into blob sources: parses the bootstrap's device and blob
/// tables, matches each device to a layer of the image, and takes one reference per blob in the domain's
/// <see cref="LazyBlobRegistry"/>. Chunk tables are read later, when a blob is first read.
/// </summary>
internal sealed class LazyImageResolver(LazyBlobRegistry blobs, IBlobReader reader)
{
    /// <summary>Checks the bootstrap against the image's layers without taking references (FailedPrecondition when broken).</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822:Mark members as static", Justification = "part of the resolver's contract: callers validate through the instance they resolve with")]
    public void Validate(RemoteImage image)
    {
        using var bootstrap = OpenBootstrap(image);
        _ = MatchDevices(image, bootstrap);
    }

    /// <summary>Opens <paramref name="image"/> for mounting; release it with <see cref="ReleaseAsync"/>.</summary>
    public LazyImage Open(RemoteImage image)
    {
        List<(ErofsDevice Device, RafsBlobInfo Info, RemoteLayer Layer)> devices;
        using (var bootstrap = OpenBootstrap(image))
        {
            devices = MatchDevices(image, bootstrap);
        }

        // Everything that can fail comes before the first reference is taken: a throw must not leave blobs held.
        var locators = devices.Select(d => Locate(image, d.Layer)).ToArray();
        var id = ContentId(image.BootstrapPath);
        var acquired = new List<LazyBlob>(devices.Count);
        for (var i = 0; i < devices.Count; i++)
        {
            var (device, info, layer) = devices[i];
            var locator = locators[i];

            // EROFS addresses the device up to its block count; the blob's address space must cover all of it.
            var deviceSize = Math.Max((long)device.Blocks * 4096, ((long)info.UncompressedSize + 4095) & ~4095L);
            acquired.Add(blobs.Acquire(layer.Digest, () => new LazyBlob(layer.Digest, locator, layer.Size, deviceSize, info, LoadTableAsync)));
        }

        return new LazyImage(image, id, acquired);
    }

    public async ValueTask ReleaseAsync(LazyImage image)
    {
        foreach (var blob in image.Blobs)
        {
            await blobs.ReleaseAsync(blob).ConfigureAwait(false);
        }
    }

    private Task<Cache.Chunks.ChunkTable> LoadTableAsync(LazyBlob blob, CancellationToken cancellationToken) =>
        ChunkTableLoader.LoadAsync(reader, blob, cancellationToken);

    private static ErofsImage OpenBootstrap(RemoteImage image)
    {
        try
        {
            return ErofsImage.Open(image.BootstrapPath);
        }
        catch (Exception e) when (e is InvalidImageException or IOException)
        {
            throw new SnapshotterException(ErrorKind.FailedPrecondition, $"image {image.ImageRef}: invalid bootstrap: {e.Message}", e);
        }
    }

    private static List<(ErofsDevice Device, RafsBlobInfo Info, RemoteLayer Layer)> MatchDevices(RemoteImage image, ErofsImage bootstrap)
    {
        var layers = new Dictionary<string, RemoteLayer>(StringComparer.Ordinal);
        foreach (var layer in image.Layers)
        {
            layers.TryAdd(layer.Digest, layer);
        }

        var result = new List<(ErofsDevice, RafsBlobInfo, RemoteLayer)>(bootstrap.Devices.Count);
        foreach (var device in bootstrap.Devices)
        {
            var info = bootstrap.Blobs.FirstOrDefault(b => b.BlobId == device.Tag)
                ?? throw SnapshotterException.FailedPrecondition(
                    $"image {image.ImageRef}: invalid bootstrap: device {device.DeviceId} (tag {device.Tag}) has no entry in the RAFS blob table");
            if (!layers.TryGetValue(OciDigest.FromSha256Hex(device.Tag), out var layer))
            {
                throw SnapshotterException.FailedPrecondition(
                    $"image {image.ImageRef}: the bootstrap needs blob sha256:{device.Tag}, which is not a layer of the image");
            }

            if (layer.Size <= 0)
            {
                throw SnapshotterException.FailedPrecondition($"image {image.ImageRef}: the size of blob {layer.Digest} is unknown");
            }

            result.Add((device, info, layer));
        }

        return result;
    }

    private static BlobLocator Locate(RemoteImage image, RemoteLayer layer)
    {
        var reference = layer.ImageRef.Length > 0 ? layer.ImageRef : image.ImageRef;
        if (!ImageReference.TryParse(reference, out var parsed, out var error))
        {
            throw SnapshotterException.InvalidArgument($"image reference '{reference}': {error}");
        }

        return new BlobLocator(parsed, layer.Digest);
    }

    /// <summary>16 hex characters of the bootstrap's sha256: the same image gets the same id.</summary>
    private static string ContentId(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream))[..16];
    }
}
