using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Snapshotter.Cache.Fetching;
using Snapshotter.Telemetry;
using Snapshotter.Cachefiles.Daemon;
using Snapshotter.Lazy.Blobs;
using Snapshotter.Lazy.Images;
using Snapshotter.Lazy.Mounting;

namespace Snapshotter.Lazy.Backends;

/// <summary>
/// EROFS over fscache with the cachefiles on-demand daemon (Linux 5.19+, shared domains 6.1+): the kernel keeps the
/// cache files and asks the daemon for every miss. Resolves the kernel's OPENs: the cookie of an image's fsid is its
/// bootstrap, any other cookie is a data blob's tag looked up in the domain's <see cref="LazyBlobRegistry"/> (the one
/// reference count), so a blob shared by several images is one cache object.
/// </summary>
internal sealed class FscacheBackend : ILazyBackend, ICacheObjectResolver
{
    public const string ModeName = "fscache";

    private readonly LazyBlobRegistry _blobs;
    private readonly BlobFetcherFactory _fetchers;
    private readonly PrefetchOptions _prefetch;
    private readonly string _configuredDomain;
    private readonly string _cacheDirectory;
    private readonly Lock _domainGate = new();
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, LocalFileObjectSource> _bootstraps = new(StringComparer.Ordinal);
    private OnDemandDaemon? _daemon;
    private string? _domain;

    private FscacheBackend(LazyBlobRegistry blobs, BlobFetcherFactory fetchers, PrefetchOptions prefetch, string domain, string cacheDirectory, ILogger logger)
    {
        _blobs = blobs;
        _fetchers = fetchers;
        _prefetch = prefetch;
        _configuredDomain = domain;
        _cacheDirectory = cacheDirectory;
        _logger = logger;
    }

    public string Mode => ModeName;

    /// <summary>
    /// Binds <c>/dev/cachefiles</c> in on-demand mode on <paramref name="cacheDirectory"/> and starts serving. Throws
    /// <see cref="OnDemandUnsupportedException"/> with the kernel's reason when it cannot.
    /// </summary>
    public static FscacheBackend Start(
        string devicePath, string cacheDirectory, string domain, LazyBlobRegistry blobs, BlobFetcherFactory fetchers, PrefetchOptions prefetch,
        SnapshotterMetrics metrics, ILogger logger)
    {
        cacheDirectory = Directory.CreateDirectory(cacheDirectory).FullName;
        var backend = new FscacheBackend(blobs, fetchers, prefetch, domain, cacheDirectory, logger);
        backend._daemon = OnDemandDaemon.Start(
            new OnDemandDaemonOptions { DevicePath = devicePath, CacheDirectory = cacheDirectory },
            backend,
            logger,
            metrics);
        return backend;
    }

    public ValueTask<ICacheObjectSource?> ResolveAsync(string volumeKey, string cookieKey, CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _domain) is not { } domain || volumeKey != "erofs," + domain)
        {
            return ValueTask.FromResult<ICacheObjectSource?>(null);
        }

        if (_bootstraps.TryGetValue(cookieKey, out var bootstrap))
        {
            return ValueTask.FromResult<ICacheObjectSource?>(bootstrap);
        }

        ICacheObjectSource? source = _blobs.TryGet("sha256:" + cookieKey, out var blob)
            ? blob.GetState(b => new FscacheBlobSource(b, _fetchers, _prefetch, _logger))
            : null;
        return ValueTask.FromResult(source);
    }

    public async ValueTask<IAsyncDisposable> MountAsync(LazyImage image, string mountPoint, CancellationToken cancellationToken = default)
    {
        // Unique within the domain: the same image may be mounted at several places.
        var fsid = $"{image.Id}-{Guid.NewGuid().ToString("N")[..8]}";
        var bootstrap = new LocalFileObjectSource(image.BootstrapPath);
        _bootstraps[fsid] = bootstrap;
        try
        {
            // The kernel OPENs and READs the bootstrap through this daemon while mount(2) blocks.
            var domain = SessionDomain();
            await Task.Factory.StartNew(() => ErofsMounter.Mount(fsid, domain, mountPoint), cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
        }
        catch
        {
            Forget(fsid);
            throw;
        }

        return new BackendMount(() =>
        {
            MountTable.Unmount(mountPoint);
            Forget(fsid);
            return ValueTask.CompletedTask;
        });
    }

    public (long Fetched, long Read) Usage(LazyBlob blob) =>
        blob.FindState<FscacheBlobSource>()?.Fetcher is { } fetcher ? (fetcher.FetchedBytes, fetcher.RequestedBytes) : (0, 0);

    public async ValueTask DisposeAsync()
    {
        if (_daemon is not null)
        {
            await _daemon.DisposeAsync().ConfigureAwait(false);
        }

        foreach (var fsid in _bootstraps.Keys)
        {
            Forget(fsid);
        }
    }

    /// <summary>
    /// The domain of this session, chosen at its first mount (by then the service has detached the mounts an earlier run
    /// left, so a volume of the configured domain still alive is held by a container across a restart).
    /// </summary>
    private string SessionDomain()
    {
        lock (_domainGate)
        {
            if (_domain is { } chosen)
            {
                return chosen;
            }

            var volumes = FscacheDomain.ReadVolumes();
            var domain = FscacheDomain.Choose(_configuredDomain, volumes, () => Guid.NewGuid().ToString("N")[..8]);
            if (domain != _configuredDomain)
            {
                Log.StaleDomain(_logger, _configuredDomain, domain);
            }

            var deleted = FscacheDomain.DeleteUnusedFreshDomains(_cacheDirectory, _configuredDomain, volumes, domain);
            if (deleted > 0)
            {
                Log.FreshDomainsDeleted(_logger, deleted);
            }

            Volatile.Write(ref _domain, domain);
            return domain;
        }
    }

    private void Forget(string fsid)
    {
        if (_bootstraps.TryRemove(fsid, out var source))
        {
            source.Dispose();
        }
    }
}
