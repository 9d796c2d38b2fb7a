using Microsoft.Extensions.Logging;
using Snapshotter.Cache.Chunks;
using Snapshotter.Cache.Fetching;
using Snapshotter.Cache.Metrics;
using Snapshotter.Cachefiles.Daemon;
using Snapshotter.Erofs;
using Snapshotter.Erofs.Conversion;
using Snapshotter.Erofs.Reading;
using Snapshotter.Registry;

namespace Snapshotter.Cachefiles.Images;

/// <summary>
/// Turns a lazily pullable image reference into a mounted EROFS: resolves the manifest, downloads the bootstrap
/// (small), reads each data blob's chunk table with one Range GET of its tail, registers bootstrap and blobs with the
/// cache daemon and mounts over fscache. Data blobs are shared per domain: one fetcher (one cache object) per blob.
/// The CLI's <c>mount</c> and the snapshotter service use this one code path.
/// </summary>
public sealed class LazyImageManager
{
    private readonly RegistryClient _client;
    private readonly CacheObjectRegistry _objects;
    private readonly LazyImageOptions _options;
    private readonly LazyMetrics _metrics;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, BlobObjectSource> _blobs = new();
    private readonly Dictionary<string, int> _blobUsers = new();
    private readonly SemaphoreSlim _prepare = new(1, 1);

    public LazyImageManager(RegistryClient client, CacheObjectRegistry objects, LazyImageOptions options, ILoggerFactory loggerFactory, LazyMetrics? metrics = null)
    {
        _client = client;
        _objects = objects;
        _options = options;
        _metrics = metrics ?? LazyMetrics.Shared;
        _logger = loggerFactory.CreateLogger("Snapshotter.Cachefiles.Images");
        Directory.CreateDirectory(BootstrapDirectory);
    }

    private string BootstrapDirectory => Path.Combine(_options.WorkDirectory, "bootstraps");

    /// <summary>
    /// Prepares <paramref name="reference"/> and mounts it read-only at <paramref name="mountPoint"/> (an existing
    /// directory). Throws <see cref="LazyImageException"/> when the image is not lazily pullable or is malformed,
    /// <see cref="RegistryException"/> for registry failures, an IOException when the mount fails.
    /// </summary>
    public async Task<LazyMount> MountAsync(Registry.ImageReference reference, string mountPoint, CancellationToken cancellationToken = default)
    {
        var resolved = await _client.ResolveAsync(reference, _options.Platform is null ? null : Platform.Parse(_options.Platform), cancellationToken).ConfigureAwait(false);
        var bootstrapLayer = resolved.Layers.LastOrDefault(l => l.Annotations.TryGetValue(NydusAnnotations.Bootstrap, out var v) && v == "true")
            ?? throw new LazyImageException($"{reference}: not a lazily pullable image (no layer annotated {NydusAnnotations.Bootstrap}=true)");
        var bootstrapPath = await EnsureBootstrapAsync(resolved.Reference, bootstrapLayer, cancellationToken).ConfigureAwait(false);

        using var image = OpenBootstrap(reference, bootstrapPath);
        var layersByHex = resolved.Layers
            .Where(l => l.Digest.StartsWith("sha256:", StringComparison.Ordinal))
            .ToDictionary(l => l.Digest["sha256:".Length..], StringComparer.Ordinal);
        var blobs = new Dictionary<string, ICacheObjectSource>(StringComparer.Ordinal);
        var acquired = new List<string>();
        try
        {
            foreach (var device in image.Devices)
            {
                var info = image.Blobs.FirstOrDefault(b => b.BlobId == device.Tag)
                    ?? throw new LazyImageException($"{reference}: device {device.DeviceId} (tag {device.Tag}) has no entry in the RAFS blob table");
                if (!layersByHex.TryGetValue(device.Tag, out var layer))
                {
                    throw new LazyImageException($"{reference}: the bootstrap needs blob sha256:{device.Tag}, which is not a layer of the manifest");
                }

                var key = KeyOf(layer.Digest);
                blobs[device.Tag] = await AcquireBlobAsync(key, resolved.Reference, layer, info, device, cancellationToken).ConfigureAwait(false);
                acquired.Add(key);
            }

            var fsid = $"{resolved.Manifest.Descriptor.Digest["sha256:".Length..][..16]}-{Guid.NewGuid().ToString("N")[..8]}";
            _objects.Register(new ImageRegistration(fsid, _options.DomainId, new LocalFileObjectSource(bootstrapPath), blobs));
            try
            {
                ErofsMounter.Mount(fsid, _options.DomainId, mountPoint);
            }
            catch
            {
                _objects.Unregister(fsid, _options.DomainId);
                throw;
            }

            Log.MountedImage(_logger, reference.ToString(), mountPoint, fsid, blobs.Count);
            var keys = acquired.ToArray();
            acquired.Clear();
            return new LazyMount(fsid, _options.DomainId, mountPoint, resolved.Manifest.Descriptor.Digest, keys, m => Release(m, keys));
        }
        finally
        {
            foreach (var key in acquired)
            {
                ReleaseBlob(key);
            }
        }
    }

    private void Release(LazyMount mount, string[] blobKeys)
    {
        try
        {
            ErofsMounter.Unmount(mount.MountPoint);
        }
        catch (IOException e)
        {
            // Busy (a reader still holds a file): detach so the mount goes away when the last user does.
            Log.UnmountDetached(_logger, mount.MountPoint, e.Message);
            ErofsMounter.Unmount(mount.MountPoint, detach: true);
        }

        _objects.Unregister(mount.Fsid, mount.DomainId);
        foreach (var key in blobKeys)
        {
            ReleaseBlob(key);
        }
    }

    private string KeyOf(string digest) => $"{_options.DomainId ?? string.Empty}/{digest}";

    private async Task<BlobObjectSource> AcquireBlobAsync(string key, Registry.ImageReference repository, Descriptor layer, RafsBlobInfo info, ErofsDevice device, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_blobs.TryGetValue(key, out var existing))
            {
                _blobUsers[key]++;
                return existing;
            }
        }

        var locator = new BlobLocator(repository, layer.Digest);
        var table = await ReadChunkTableAsync(locator, layer, info, device, cancellationToken).ConfigureAwait(false);
        var fetcher = new BlobChunkFetcher(table, new RegistryBlobRangeReader(_client, locator), new CodecDecompressor(info.Compressor), _options.Fetch, _metrics, _logger);
        var source = new BlobObjectSource(fetcher, _options.Prefetch, _logger);
        lock (_lock)
        {
            if (_blobs.TryGetValue(key, out var raced))
            {
                _blobUsers[key]++;
                return raced;
            }

            _blobs[key] = source;
            _blobUsers[key] = 1;
            return source;
        }
    }

    private void ReleaseBlob(string key)
    {
        lock (_lock)
        {
            if (_blobUsers.TryGetValue(key, out var users) && --users == 0)
            {
                _blobUsers.Remove(key);
                _blobs.Remove(key, out var source);
                source?.Closed();
            }
            else if (users > 0)
            {
                _blobUsers[key] = users;
            }
        }
    }

    /// <summary>Fetches the blob's tail (chunk-info table onwards) with one Range GET and builds a validated chunk table.</summary>
    private async Task<ChunkTable> ReadChunkTableAsync(BlobLocator locator, Descriptor layer, RafsBlobInfo info, ErofsDevice device, CancellationToken cancellationToken)
    {
        var tailOffset = (long)info.ChunkInfoOffset;
        if (tailOffset <= 0 || tailOffset >= layer.Size || layer.Size - tailOffset > 256L * 1024 * 1024)
        {
            throw new LazyImageException($"blob {layer.Digest}: chunk-info offset {tailOffset} does not fit the blob ({layer.Size} bytes)");
        }

        var tail = new byte[layer.Size - tailOffset];
        await _client.ReadAsync(locator, tailOffset, tail, cancellationToken).ConfigureAwait(false);
        try
        {
            using var blob = DataBlob.Open(new TailSource(layer.Size, tailOffset, tail), info.Compressor);

            // EROFS addresses the device up to its block count; the cache object must cover all of it.
            var size = Math.Max((long)device.Blocks * 4096, ((long)info.UncompressedSize + 4095) & ~4095L);
            return DataBlobChunkTable.Create(blob, size, layer.Size);
        }
        catch (InvalidImageException e)
        {
            throw new LazyImageException($"blob {layer.Digest}: {e.Message}", e);
        }
        catch (ChunkTableException e)
        {
            throw new LazyImageException($"blob {layer.Digest}: {e.Message}", e);
        }
    }

    private static ErofsImage OpenBootstrap(Registry.ImageReference reference, string path)
    {
        try
        {
            return ErofsImage.Open(path);
        }
        catch (InvalidImageException e)
        {
            throw new LazyImageException($"{reference}: invalid bootstrap: {e.Message}", e);
        }
    }

    /// <summary>Downloads and unpacks the bootstrap once per bootstrap layer digest (verified by the registry client).</summary>
    private async Task<string> EnsureBootstrapAsync(Registry.ImageReference repository, Descriptor layer, CancellationToken cancellationToken)
    {
        if (layer.Size > _options.MaxBootstrapSize)
        {
            throw new LazyImageException($"bootstrap layer {layer.Digest} is {layer.Size} bytes, over the {_options.MaxBootstrapSize}-byte limit");
        }

        var path = Path.Combine(BootstrapDirectory, layer.Digest.Replace(':', '-') + ".boot");
        if (File.Exists(path))
        {
            return path;
        }

        await _prepare.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (File.Exists(path))
            {
                return path;
            }

            var temp = path + ".tmp-" + Environment.ProcessId;
            await using (var layerStream = await _client.OpenBlobAsync(new BlobLocator(repository, layer.Digest), layer.Size, cancellationToken).ConfigureAwait(false))
            await using (var output = new FileStream(temp, FileMode.Create, FileAccess.Write))
            {
                try
                {
                    await ImageConverter.ExtractBootstrapAsync(layerStream, output, cancellationToken).ConfigureAwait(false);
                }
                catch (InvalidImageException e)
                {
                    throw new LazyImageException($"bootstrap layer {layer.Digest}: {e.Message}", e);
                }
                catch (InvalidDataException e)
                {
                    throw new LazyImageException($"bootstrap layer {layer.Digest} is not a gzip tar: {e.Message}", e);
                }
            }

            File.Move(temp, path, overwrite: true);
            return path;
        }
        finally
        {
            _prepare.Release();
        }
    }
}
