using Snapshotter.Core.Remote;
using Snapshotter.Erofs;
using Snapshotter.Erofs.Conversion;
using Snapshotter.Oci;
using Snapshotter.Registry;
using ImageReference = Snapshotter.Registry.ImageReference;

namespace Snapshotter.Lazy.Images;

/// <summary>
/// Resolves a lazily pullable image straight from its registry (for <c>snapshotter mount</c>, where no containerd
/// prepares the layers): manifest, then the bootstrap layer downloaded once per digest into
/// <c>&lt;cache&gt;/bootstraps</c>. <see cref="DownloadBootstrapAsync"/> also serves the bootstrap layer's Prepare.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable", Justification = "its SemaphoreSlim never hands out a wait handle, so it holds nothing to release")]
internal sealed class RegistryImageResolver(RegistryClient client, string cacheDirectory, string? platform, long maxBootstrapSize)
{
    private readonly SemaphoreSlim _download = new(1, 1);

    private string BootstrapDirectory { get; } = Directory.CreateDirectory(Path.Combine(cacheDirectory, "bootstraps")).FullName;

    /// <summary>The image's bootstrap (local) and data layers. Throws <see cref="SnapshotterException"/> naming the image.</summary>
    /// <param name="progress">Told how much of the bootstrap layer has arrived, when it is downloaded (not when cached).</param>
    public async Task<RemoteImage> ResolveAsync(ImageReference reference, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ResolvedImage resolved;
        try
        {
            resolved = await client.ResolveAsync(reference, platform is null ? null : Platform.Parse(platform), cancellationToken).ConfigureAwait(false);
        }
        catch (RegistryException e)
        {
            throw LazyErrors.FromRegistry(e, $"image {reference}");
        }
        catch (FormatException e)
        {
            throw new SnapshotterException(ErrorKind.InvalidArgument, $"image {reference}: {e.Message}", e);
        }

        var bootstrap = resolved.Layers.LastOrDefault(l => l.Annotations.TryGetValue(NydusAnnotations.Bootstrap, out var v) && v == "true")
            ?? throw SnapshotterException.FailedPrecondition($"image {reference}: not a lazily pullable image (no layer annotated {NydusAnnotations.Bootstrap}=true)");
        var path = await EnsureBootstrapAsync(resolved.Reference, bootstrap, progress, cancellationToken).ConfigureAwait(false);
        var layers = resolved.Layers
            .Where(l => !ReferenceEquals(l, bootstrap) && OciDigest.IsSha256(l.Digest))
            .Select(l => new RemoteLayer(resolved.Reference.ToString(), l.Digest, l.Size))
            .ToArray();
        return new RemoteImage(resolved.Reference.ToString(), path, layers);
    }

    private async Task<string> EnsureBootstrapAsync(ImageReference repository, Descriptor layer, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        var path = Path.Combine(BootstrapDirectory, layer.Digest.Replace(':', '-') + ".boot");
        if (File.Exists(path))
        {
            return path;
        }

        await _download.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!File.Exists(path))
            {
                await DownloadBootstrapAsync(repository, layer.Digest, layer.Size, path, progress, cancellationToken).ConfigureAwait(false);
            }

            return path;
        }
        finally
        {
            _download.Release();
        }
    }

    /// <summary>
    /// Downloads the bootstrap layer <paramref name="digest"/> (<paramref name="size"/> bytes) of
    /// <paramref name="repository"/>, checks its digest and writes its <c>image/image.boot</c> to
    /// <paramref name="destination"/>, complete or not at all. Throws <see cref="SnapshotterException"/> naming the layer.
    /// </summary>
    public async Task DownloadBootstrapAsync(
        ImageReference repository, string digest, long size, string destination, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (size > maxBootstrapSize)
        {
            throw SnapshotterException.FailedPrecondition($"bootstrap layer {digest} is {size} bytes, over the {maxBootstrapSize}-byte limit");
        }

        var temp = destination + ".tmp-" + Environment.ProcessId;
        try
        {
            var name = $"bootstrap {digest}";
            progress?.Report(new DownloadProgress(name, 0, size));
            var blob = await client.OpenBlobAsync(new BlobLocator(repository, digest), size, cancellationToken).ConfigureAwait(false);
            await using (blob.ConfigureAwait(false))
            {
                var layerStream = progress is null ? blob : new ProgressStream(blob, read => progress.Report(new DownloadProgress(name, read, size)));
                await using (layerStream.ConfigureAwait(false))
                {
                    var output = new FileStream(temp, FileMode.Create, FileAccess.Write);
                    await using (output.ConfigureAwait(false))
                    {
                        await ImageConverter.ExtractBootstrapAsync(layerStream, output, cancellationToken).ConfigureAwait(false);

                        // Read the layer to its end: the registry client checks the layer's digest only there, and the
                        // extraction stops after image.boot (a tampered layer would otherwise be trusted from now on).
                        await layerStream.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
                    }
                }
            }

            File.Move(temp, destination, overwrite: true);
        }
        catch (RegistryException e)
        {
            throw LazyErrors.FromRegistry(e, $"bootstrap layer {digest}");
        }
        catch (Exception e) when (e is InvalidImageException or InvalidDataException)
        {
            throw new SnapshotterException(ErrorKind.FailedPrecondition, $"bootstrap layer {digest} is not a gzip tar holding {NydusAnnotations.BootstrapPath}: {e.Message}", e);
        }
        finally
        {
            // Gone already when it was moved into place; otherwise nothing half-written stays behind.
            File.Delete(temp);
        }
    }
}
