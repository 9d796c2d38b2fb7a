using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Snapshotter.Cache.Metrics;
using Snapshotter.Cachefiles.Daemon;
using Snapshotter.Core.Remote;
using Snapshotter.Lazy.Backends;
using Snapshotter.Lazy.Blobs;
using Snapshotter.Lazy.Images;
using Snapshotter.Lazy.Mounting;
using Snapshotter.Registry;

namespace Snapshotter.Lazy;

/// <summary>
/// The lazy-image component: the snapshotter's <see cref="IRemoteFileSystem"/> (and what <c>snapshotter mount</c> uses).
/// Resolves images to blob sources with one reference count per blob (<see cref="LazyBlobRegistry"/>), mounts them with
/// the backend the host supports (chosen once at start, with the reason logged) and falls back to downloading the blobs
/// when that backend cannot mount an image.
/// </summary>
public sealed class LazyFileSystem : IRemoteFileSystem, IAsyncDisposable
{
    private readonly RegistryClient _client;
    private readonly LazyBlobRegistry _blobs;
    private readonly LazyImageResolver _resolver;
    private readonly RegistryImageResolver _registryImages;
    private readonly BlobFileCache _files;
    private readonly ILazyBackend _backend;
    private readonly BlobFetchBackend _fallback;
    private readonly RemoteStatistics? _statistics;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, (LazyImage Image, IAsyncDisposable Mount)> _mounts = new(StringComparer.Ordinal);

    private LazyFileSystem(
        RegistryClient client, LazyBlobRegistry blobs, BlobFileCache files, ILazyBackend backend, BlobFetchBackend fallback, string reason,
        RegistryImageResolver registryImages, RemoteStatistics? statistics, ILogger logger)
    {
        _client = client;
        _blobs = blobs;
        _files = files;
        _backend = backend;
        _fallback = fallback;
        ModeReason = reason;
        _registryImages = registryImages;
        _statistics = statistics;
        _logger = logger;
        _resolver = new LazyImageResolver(blobs, client);
    }

    /// <inheritdoc/>
    public string Mode => _backend.Mode;

    /// <summary>Why <see cref="Mode"/> was chosen (what the host supports), as logged at start.</summary>
    public string ModeReason { get; }

    /// <summary>Images mounted by this instance.</summary>
    public int MountedImages => _mounts.Count;

    /// <summary>Data blobs in use by mounted images.</summary>
    public int BlobsInUse => _blobs.Count;

    /// <summary>
    /// Picks and starts the backend for <paramref name="options"/>: <c>fscache</c> when asked for (or in auto mode) and
    /// the kernel binds cachefiles on-demand, else <c>blob-fetch</c> (EROFS from files, or loop devices). A refused
    /// on-demand mode is counted in <paramref name="statistics"/>.
    /// </summary>
    public static Task<LazyFileSystem> CreateAsync(
        LazyOptions options, RegistryClient client, ILoggerFactory loggerFactory, LazyMetrics? metrics = null, RemoteStatistics? statistics = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        cancellationToken.ThrowIfCancellationRequested();
        var logger = loggerFactory.CreateLogger("Snapshotter.Lazy");
        metrics ??= LazyMetrics.Shared;
        var cacheDirectory = Directory.CreateDirectory(options.CacheDirectory).FullName;
        var files = new BlobFileCache(cacheDirectory);
        files.DeleteIncomplete();
        var blobs = new LazyBlobRegistry();
        var fetchers = new BlobFetcherFactory(client, options.Fetch, metrics, logger);

        var fileBacked = ErofsMounts.ProbeFileBacked(cacheDirectory, out var fileReason);
        var fallback = new BlobFetchBackend(files, client, fileBacked, metrics, logger);
        ILazyBackend? backend = null;
        var reason = string.Empty;
        if (options.Mode is LazyMode.Auto or LazyMode.Fscache)
        {
            if (!File.Exists(options.CachefilesDevice))
            {
                reason = $"{options.CachefilesDevice} does not exist (the kernel lacks CONFIG_CACHEFILES / CONFIG_CACHEFILES_ONDEMAND)";
                if (options.Mode == LazyMode.Fscache)
                {
                    statistics?.RecordFallback(FallbackReason.OnDemandRefused);
                }
            }
            else
            {
                try
                {
                    backend = FscacheBackend.Start(
                        options.CachefilesDevice, Path.Combine(cacheDirectory, "fscache"), options.DomainId, blobs, fetchers, options.Prefetch, metrics, logger);
                    reason = $"cachefiles on-demand bound on {Path.Combine(cacheDirectory, "fscache")}";
                }
                catch (OnDemandUnsupportedException e)
                {
                    reason = e.Message;
                    statistics?.RecordFallback(FallbackReason.OnDemandRefused);
                }
            }

            if (backend is null)
            {
                if (options.Mode == LazyMode.Fscache && !options.FallBackWhenUnavailable)
                {
                    throw SnapshotterException.FailedPrecondition($"lazy mode fscache is unavailable: {reason}");
                }

                Log.ModeUnavailable(logger, FscacheBackend.ModeName, reason);
            }
        }

        if (backend is null)
        {
            backend = fallback;
            reason = (reason.Length > 0 ? $"on-demand is unavailable ({reason}); " : string.Empty) +
                $"data blobs are downloaded whole when an image is first mounted; {fileReason}";
        }

        Log.ModeChosen(logger, backend.Mode, reason);
        var registryImages = new RegistryImageResolver(client, cacheDirectory, options.Platform, options.MaxBootstrapSize);
        return Task.FromResult(new LazyFileSystem(client, blobs, files, backend, fallback, reason, registryImages, statistics, logger));
    }

    /// <inheritdoc/>
    public async ValueTask<RemoteLayer> ResolveLayerAsync(string imageRef, string digest, CancellationToken cancellationToken = default)
    {
        if (!ImageReference.TryParse(imageRef, out var reference, out var error))
        {
            throw SnapshotterException.InvalidArgument($"image reference '{imageRef}': {error}");
        }

        if (!OciDigest.IsValid(digest))
        {
            throw SnapshotterException.InvalidArgument($"image {imageRef}: layer digest '{digest}' is not a valid digest");
        }

        try
        {
            var size = await _client.GetBlobSizeAsync(new BlobLocator(reference, digest), cancellationToken).ConfigureAwait(false);
            return new RemoteLayer(imageRef, digest, size);
        }
        catch (RegistryException e)
        {
            throw LazyErrors.FromRegistry(e, $"image {imageRef}: blob {digest}");
        }
    }

    /// <inheritdoc/>
    public ValueTask ValidateAsync(RemoteImage image, CancellationToken cancellationToken = default)
    {
        _resolver.Validate(image);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public async ValueTask MountAsync(RemoteImage image, string mountPoint, CancellationToken cancellationToken = default)
    {
        mountPoint = Normalize(mountPoint);
        if (_mounts.ContainsKey(mountPoint))
        {
            // A second mount would stack on the first and its references would never be released.
            throw SnapshotterException.FailedPrecondition($"image {image.ImageRef}: {mountPoint} already holds a lazy mount of this snapshotter");
        }

        var lazy = _resolver.Open(image);
        try
        {
            IAsyncDisposable mount;
            try
            {
                mount = await _backend.MountAsync(lazy, mountPoint, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (!ReferenceEquals(_backend, _fallback) && e is IOException or SnapshotterException)
            {
                Log.MountFallback(_logger, image.ImageRef, _backend.Mode, e.Message, _fallback.Mode);
                _statistics?.RecordFallback(FallbackReason.MountFallback);
                MountTable.DetachAll(mountPoint);
                mount = await _fallback.MountAsync(lazy, mountPoint, cancellationToken).ConfigureAwait(false);
            }

            if (!_mounts.TryAdd(mountPoint, (lazy, mount)))
            {
                // A concurrent call mounted there first (callers serialize per mount point; the snapshotter does).
                await mount.DisposeAsync().ConfigureAwait(false);
                throw SnapshotterException.FailedPrecondition($"image {image.ImageRef}: {mountPoint} already holds a lazy mount of this snapshotter");
            }

            Log.Mounted(_logger, image.ImageRef, mountPoint, Mode, lazy.Blobs.Count);
        }
        catch (Exception e)
        {
            await _resolver.ReleaseAsync(lazy).ConfigureAwait(false);
            if (e is IOException io)
            {
                throw new SnapshotterException(ErrorKind.FailedPrecondition, $"image {image.ImageRef}: mounting at {mountPoint}: {io.Message}", io);
            }

            throw;
        }
    }

    /// <inheritdoc/>
    public bool IsMounted(string mountPoint) => _mounts.ContainsKey(Normalize(mountPoint));

    /// <inheritdoc/>
    public async ValueTask UnmountAsync(string mountPoint, CancellationToken cancellationToken = default)
    {
        mountPoint = Normalize(mountPoint);
        if (_mounts.TryRemove(mountPoint, out var entry))
        {
            await entry.Mount.DisposeAsync().ConfigureAwait(false);
            await _resolver.ReleaseAsync(entry.Image).ConfigureAwait(false);
            return;
        }

        // Not ours: left by an earlier run, whose daemon is gone.
        var detached = MountTable.DetachAll(mountPoint);
        if (detached > 0)
        {
            Log.StaleDetached(_logger, detached, mountPoint);
        }
    }

    /// <inheritdoc/>
    public ValueTask PruneAsync(IReadOnlySet<string> liveDigests, CancellationToken cancellationToken = default)
    {
        var deleted = _files.Prune(liveDigests, _blobs.IsInUse);
        if (deleted > 0)
        {
            Log.Pruned(_logger, deleted);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Resolves <paramref name="reference"/> straight from its registry, downloading its bootstrap (for
    /// <c>snapshotter mount</c>). Throws <see cref="SnapshotterException"/> naming the image and the cause.
    /// </summary>
    public Task<RemoteImage> ResolveImageAsync(ImageReference reference, CancellationToken cancellationToken = default) =>
        _registryImages.ResolveAsync(reference, cancellationToken);

    /// <summary>The key of a mount point: absolute, without a trailing slash (<c>/a/b/</c> and <c>/a/b</c> are one mount).</summary>
    private static string Normalize(string mountPoint) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(mountPoint));

    /// <summary>Unmounts every image still mounted, then stops the backend (the cachefiles daemon).</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var mountPoint in _mounts.Keys)
        {
            await UnmountAsync(mountPoint).ConfigureAwait(false);
        }

        await _backend.DisposeAsync().ConfigureAwait(false);
        if (!ReferenceEquals(_backend, _fallback))
        {
            await _fallback.DisposeAsync().ConfigureAwait(false);
        }
    }
}
