using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Snapshotter.Telemetry;
using Snapshotter.Core.Remote;
using Snapshotter.Lazy.Backends;
using Snapshotter.Lazy.Blobs;
using Snapshotter.Lazy.Images;
using Snapshotter.Lazy.Mounting;
using Snapshotter.Oci;
using Snapshotter.Registry;

namespace Snapshotter.Lazy;

/// <summary>
/// The lazy-image component: the snapshotter's <see cref="IRemoteFileSystem"/> (and what <c>snapshotter mount</c> uses).
/// Resolves images to blob sources with one reference count per blob (<see cref="LazyBlobRegistry"/>), mounts them with
/// the backend the host supports (chosen once at start, with the reason logged) and falls back to downloading the blobs
/// when that backend cannot mount an image.
/// </summary>
internal sealed class LazyFileSystem : IRemoteFileSystem, IAsyncDisposable
{
    private readonly RegistryClient _client;
    private readonly LazyBlobRegistry _blobs;
    private readonly LazyImageResolver _resolver;
    private readonly RegistryImageResolver _registryImages;
    private readonly AnticipatedLayers _anticipated;
    private readonly BlobFileCache _files;
    private readonly ILazyBackend _backend;
    private readonly BlobFetchBackend _fallback;
    private readonly RemoteStatistics? _statistics;
    private readonly ILogger _logger;
    private readonly SnapshotterMetrics _metrics;
    private readonly ConcurrentDictionary<string, (LazyImage Image, IAsyncDisposable Mount)> _mounts = new(StringComparer.Ordinal);
    private long _diskBytes;
    private long _diskMeasuredAt;

    private LazyFileSystem(
        RegistryClient client, LazyBlobRegistry blobs, BlobFileCache files, ILazyBackend backend, BlobFetchBackend fallback, string reason,
        RegistryImageResolver registryImages, RemoteStatistics? statistics, SnapshotterMetrics metrics, ILogger logger)
    {
        _metrics = metrics;
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
        _anticipated = new AnticipatedLayers(client, logger);
    }

    /// <inheritdoc/>
    public string Mode => _backend.Mode;

    /// <summary>Why <see cref="Mode"/> was chosen (what the host supports), as logged at start.</summary>
    public string ModeReason { get; }

    /// <summary>Images mounted by this instance.</summary>
    public int MountedImages => _mounts.Count;

    /// <summary>Data blobs in use by mounted images.</summary>
    public int BlobsInUse => _blobs.Count;

    /// <summary>Requests the fuse mode's FUSE server answered (null in other modes or before the first mount), for tests and benchmarks.</summary>
    internal Fuse.FuseStatistics? FuseStatistics => (_backend as FuseBackend)?.Statistics;

    /// <summary>
    /// Probes the host (<see cref="LazyModeProbe"/>), then picks and starts the backend for <paramref name="options"/>
    /// (<see cref="BackendSelector"/>): fscache, fuse or blob-fetch, the reason logged. A refused on-demand mode is counted
    /// in <paramref name="statistics"/>. Throws FailedPrecondition when no mode works (no EROFS) or the requested one is
    /// unavailable without <see cref="LazyOptions.FallBackWhenUnavailable"/>.
    /// </summary>
    public static Task<LazyFileSystem> CreateAsync(
        LazyOptions options, RegistryClient client, ILoggerFactory loggerFactory, SnapshotterMetrics? metrics = null, RemoteStatistics? statistics = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        cancellationToken.ThrowIfCancellationRequested();
        var logger = loggerFactory.CreateLogger("Snapshotter.Lazy");
        metrics ??= SnapshotterMetrics.Shared;
        var cacheDirectory = Directory.CreateDirectory(options.CacheDirectory).FullName;
        var files = new BlobFileCache(cacheDirectory);
        files.DeleteIncomplete();
        var blobs = new LazyBlobRegistry();
        var fetchers = new BlobFetcherFactory(client, options.Fetch, metrics, logger);

        // The same probe and decision `snapshotter check` reports.
        var capabilities = LazyModeProbe.Probe(LazyModeProbe.Candidates(options.Mode), cacheDirectory, options.CachefilesDevice);
        Log.FileBackedProbe(logger, capabilities.FileBackedReason);
        var fallback = new BlobFetchBackend(files, client, capabilities.FileBacked, metrics, logger);
        var (backend, reason) = BackendSelector.Select(options, capabilities, cacheDirectory, blobs, fetchers, fallback, metrics, statistics, logger);
        Log.ModeChosen(logger, backend.Mode, reason);
        var registryImages = new RegistryImageResolver(client, cacheDirectory, options.Platform, options.MaxBootstrapSize);
        return Task.FromResult(new LazyFileSystem(client, blobs, files, backend, fallback, reason, registryImages, statistics, metrics, logger));
    }

    /// <summary>Fetched and read bytes of every mounted image (for per-image metrics), one entry per image reference.</summary>
    public IReadOnlyList<ImageUsage> ImageUsage()
    {
        var byImage = new Dictionary<string, ImageUsage>(StringComparer.Ordinal);
        foreach (var (image, _) in _mounts.Values)
        {
            long fetched = 0, read = 0;
            foreach (var blob in image.Blobs)
            {
                var (f, r) = _backend.Usage(blob);
                var (ff, fr) = ReferenceEquals(_backend, _fallback) ? (0L, 0L) : _fallback.Usage(blob);
                fetched += f + ff;
                read += r + fr;
            }

            byImage[image.Source.ImageRef] = new ImageUsage(image.Source.ImageRef, fetched, read, image.Blobs.Count);
        }

        return [.. byImage.Values];
    }

    /// <summary>
    /// Bytes the cache directory occupies on disk (allocated blocks: sparse cache files count what they hold), measured
    /// at most every 15 s so that a scrape stays cheap.
    /// </summary>
    public long CacheDiskBytes()
    {
        var now = Environment.TickCount64;
        if (now - Volatile.Read(ref _diskMeasuredAt) < 15_000 && _diskMeasuredAt != 0)
        {
            return Volatile.Read(ref _diskBytes);
        }

        long total = 0;
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 };
        foreach (var directory in new[] { _files.Directory, Path.Combine(Path.GetDirectoryName(_files.Directory)!, "fscache") })
        {
            if (Directory.Exists(directory))
            {
                foreach (var file in Directory.EnumerateFiles(directory, "*", options))
                {
                    total += Interop.DiskUsageCalls.AllocatedBytes(file);
                }
            }
        }

        Volatile.Write(ref _diskBytes, total);
        Volatile.Write(ref _diskMeasuredAt, now);
        return total;
    }

    /// <inheritdoc/>
    public async ValueTask<RemoteLayer> ResolveLayerAsync(string imageRef, string digest, CancellationToken cancellationToken = default) =>
        new(imageRef, digest, await BlobSizeAsync(imageRef, Locate(imageRef, digest, "layer"), cancellationToken).ConfigureAwait(false));

    /// <inheritdoc/>
    public void AnticipateLayers(string imageRef, IReadOnlyList<string> digests)
    {
        ArgumentNullException.ThrowIfNull(digests);
        if (ImageReference.TryParse(imageRef, out var reference, out _))
        {
            _anticipated.Start(reference, digests);
        }
    }

    /// <inheritdoc/>
    public async ValueTask FetchBootstrapAsync(string imageRef, string digest, string destination, CancellationToken cancellationToken = default)
    {
        var blob = Locate(imageRef, digest, "bootstrap layer");
        var size = await BlobSizeAsync(imageRef, blob, cancellationToken).ConfigureAwait(false);
        await _registryImages.DownloadBootstrapAsync(blob.Repository, digest, size, destination, progress: null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The blob <paramref name="digest"/> of <paramref name="imageRef"/>; InvalidArgument naming the bad part otherwise.</summary>
    private static BlobLocator Locate(string imageRef, string digest, string what)
    {
        if (!ImageReference.TryParse(imageRef, out var reference, out var error))
        {
            throw SnapshotterException.InvalidArgument($"image reference '{imageRef}': {error}");
        }

        if (!OciDigest.IsValid(digest))
        {
            throw SnapshotterException.InvalidArgument($"image {imageRef}: {what} digest '{digest}' is not a valid digest");
        }

        return new BlobLocator(reference, digest);
    }

    /// <summary>The blob's size: the early HEAD's answer when <see cref="AnticipateLayers"/> asked for it, else a HEAD now.</summary>
    private async ValueTask<long> BlobSizeAsync(string imageRef, BlobLocator blob, CancellationToken cancellationToken)
    {
        if (await _anticipated.TakeAsync(blob, cancellationToken).ConfigureAwait(false) is { } known)
        {
            return known;
        }

        try
        {
            return await _client.GetBlobSizeAsync(blob, cancellationToken).ConfigureAwait(false);
        }
        catch (RegistryException e)
        {
            throw LazyErrors.FromRegistry(e, $"image {imageRef}: blob {blob.Digest}");
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
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        using var activity = SnapshotterActivities.Source.StartActivity("lazy.mount");
        activity?.SetTag("image", image.ImageRef);
        if (_mounts.ContainsKey(mountPoint))
        {
            if (MountTable.FileSystemAt(mountPoint) == "erofs")
            {
                // A second mount would stack on the first and its references would never be released.
                throw SnapshotterException.FailedPrecondition($"image {image.ImageRef}: {mountPoint} already holds a lazy mount of this snapshotter");
            }

            // Unmounted behind our back: forget that mount (release its references), then mount again.
            await UnmountAsync(mountPoint, cancellationToken).ConfigureAwait(false);
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
            _metrics.RecordMount(Mode, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
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
    /// <remarks>Also asks the kernel: a mount someone removed behind our back (umount by hand) is not mounted.</remarks>
    public bool IsMounted(string mountPoint)
    {
        mountPoint = Normalize(mountPoint);
        return _mounts.ContainsKey(mountPoint) && MountTable.FileSystemAt(mountPoint) == "erofs";
    }

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
        if (_backend is FuseBackend fuse)
        {
            fuse.Prune(liveDigests, _blobs.IsInUse);
        }

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
        _registryImages.ResolveAsync(reference, null, cancellationToken);

    /// <summary>As <see cref="ResolveImageAsync(ImageReference, CancellationToken)"/>, telling <paramref name="progress"/> how the bootstrap download goes.</summary>
    public Task<RemoteImage> ResolveImageAsync(ImageReference reference, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken = default) =>
        _registryImages.ResolveAsync(reference, progress, cancellationToken);

    /// <summary>The key of a mount point: absolute, without a trailing slash (<c>/a/b/</c> and <c>/a/b</c> are one mount).</summary>
    private static string Normalize(string mountPoint) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(mountPoint));

    /// <summary>Unmounts every image still mounted, then stops the backend (the cachefiles daemon).</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var mountPoint in _mounts.Keys)
        {
            try
            {
                await UnmountAsync(mountPoint).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or SnapshotterException or InvalidOperationException)
            {
                // Keep going: one stuck mount must not keep the others (and the cache daemon) alive.
                Log.UnmountFailed(_logger, mountPoint, e.Message);
            }
        }

        await _backend.DisposeAsync().ConfigureAwait(false);
        if (!ReferenceEquals(_backend, _fallback))
        {
            await _fallback.DisposeAsync().ConfigureAwait(false);
        }
    }
}
