using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Tmds.Linux;
using Snapshotter.Fuse;
using Snapshotter.Interop;
using Snapshotter.Lazy.Blobs;
using Snapshotter.Lazy.Images;
using Snapshotter.Lazy.Mounting;

namespace Snapshotter.Lazy.Backends;

/// <summary>
/// Lazy pulling on kernels without cachefiles on-demand (Linux 6.12+, EROFS mounted from regular files): one FUSE
/// mount serves a flat directory of blob files (one per data blob: its uncompressed address space), and each image's
/// bootstrap - a local file - is mounted as EROFS with those FUSE files as its devices. The kernel's EROFS does all
/// metadata work and page caching; only data misses reach the daemon, as FUSE READs of blob files.
/// </summary>
internal sealed class FuseBackend : ILazyBackend
{
    public const string ModeName = "fuse";

    private readonly string _mountPoint;
    private readonly FuseServerOptions _serverOptions;
    private volatile bool _erofsDirectIo;
    private readonly BlobFileCache _cache;
    private readonly BlobFetcherFactory _fetchers;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, FuseBlobFile> _files = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private FuseServer? _server;

    private FuseBackend(string mountPoint, LazyOptions options, BlobFileCache cache, BlobFetcherFactory fetchers, ILogger logger)
    {
        _mountPoint = mountPoint;
        _serverOptions = options.FuseServer;
        _erofsDirectIo = options.FuseErofsDirectIo;
        _cache = cache;
        _fetchers = fetchers;
        _logger = logger;
    }

    public string Mode => ModeName;

    /// <summary>The FUSE mount holding the blob files.</summary>
    public string FilesDirectory => _mountPoint;

    /// <summary>Requests the FUSE server answered (metadata walks should add none: the kernel caches them); null before the first mount.</summary>
    public FuseStatistics? Statistics => Volatile.Read(ref _server)?.Statistics;

    /// <summary>
    /// Prepares the blob-file directory at <paramref name="mountPoint"/>: stale FUSE mounts an earlier run left there
    /// are detached, and /dev/fuse must open. The FUSE mount itself is made when the first image needs it, so a host
    /// that never pulls a lazy image carries no FUSE mount. <paramref name="options"/> gives the FUSE server's settings
    /// (<see cref="LazyOptions.FuseServer"/>). Throws an IOException naming the failure.
    /// </summary>
    public static FuseBackend Start(string mountPoint, LazyOptions options, BlobFileCache cache, BlobFetcherFactory fetchers, ILogger logger)
    {
        Directory.CreateDirectory(mountPoint);
        FuseMounts.CleanStale(Path.GetDirectoryName(mountPoint)!, logger);
        MountTable.DetachAll(mountPoint);
        using (File.OpenHandle("/dev/fuse", FileMode.Open, FileAccess.ReadWrite))
        {
            // Only proving that we may open it.
        }

        return new FuseBackend(mountPoint, options, cache, fetchers, logger);
    }

    public async ValueTask<IAsyncDisposable> MountAsync(LazyImage image, string mountPoint, CancellationToken cancellationToken = default)
    {
        var devices = new List<string>(image.Blobs.Count);
        foreach (var blob in image.Blobs)
        {
            devices.Add(Path.Combine(_mountPoint, FileOf(blob).Name));

            // Each blob's first READ needs its chunk table (a Range GET of the blob's tail): read it now, while the
            // container is being created, instead of in front of that READ.
            // On the thread pool: the request is built and sent there, not in the Prepare call that mounts.
            _ = Task.Run(() => ReadChunkTableAsync(blob), CancellationToken.None);
        }

        await Task.Run(() => MountErofs(image, devices, mountPoint), cancellationToken).ConfigureAwait(false);
        return new BackendMount(() =>
        {
            MountTable.Unmount(mountPoint);
            return ValueTask.CompletedTask;
        });
    }

    public (long Fetched, long Read) Usage(LazyBlob blob) =>
        _files.TryGetValue(blob.Digest, out var file) && file.Fetcher is { } fetcher ? (fetcher.FetchedBytes, fetcher.RequestedBytes) : (0, 0);

    /// <summary>Drops the blob files (and their cached data) of digests no snapshot references and no mount uses; unmounts the FUSE mount when none is left.</summary>
    public void Prune(IReadOnlySet<string> liveDigests, Func<string, bool> inUse)
    {
        foreach (var (digest, file) in _files)
        {
            if (liveDigests.Contains(digest) || inUse(digest) || !_files.TryRemove(digest, out _))
            {
                continue;
            }

            _server?.Remove(file.Name);
            file.Dispose();
            File.Delete(file.SparsePath);
        }

        // No blob file left, so no EROFS mount uses the FUSE mount: unmount it, so that removing the last lazy image
        // leaves nothing mounted (the next image mounts it again). Under the lock: a concurrent first FileOf must not
        // mount a new server on this mount point before the old one is gone.
        lock (_lock)
        {
            if (_files.IsEmpty && _server is { } idle)
            {
                _server = null;
                idle.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Volatile.Read(ref _server) is { } server)
        {
            await server.DisposeAsync().ConfigureAwait(false);
        }

        foreach (var file in _files.Values)
        {
            file.Dispose();
        }

        _files.Clear();
    }

    /// <summary>Reads <paramref name="blob"/>'s chunk table in the background; a failure is left to the first READ, which retries it.</summary>
    private async Task ReadChunkTableAsync(LazyBlob blob)
    {
        try
        {
            await blob.GetChunkTableAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is SnapshotterException or OperationCanceledException)
        {
            Log.ChunkTableNotPreloaded(_logger, blob.Digest, e.Message);
        }
    }

    private void MountErofs(LazyImage image, List<string> devices, string mountPoint)
    {
        var links = _cache.LinkDirectory(mountPoint);
        if (_erofsDirectIo)
        {
            try
            {
                ErofsMounts.Mount(image.BootstrapPath, devices, mountPoint, fileBacked: true, links, "directio");
                return;
            }
            catch (SyscallException e) when (e.ErrorNumber == LibC.EINVAL)
            {
                // EROFS before Linux 6.13 rejects the option: mount buffered (a bootstrap that is bad fails again below).
                _erofsDirectIo = false;
                Log.ErofsDirectIoUnsupported(_logger, e.Message);
            }
        }

        ErofsMounts.Mount(image.BootstrapPath, devices, mountPoint, fileBacked: true, links);
    }

    private FuseBlobFile FileOf(LazyBlob blob)
    {
        lock (_lock)
        {
            _server ??= FuseServer.Mount(_mountPoint, _serverOptions, _logger);
            if (!_files.TryGetValue(blob.Digest, out var file))
            {
                file = new FuseBlobFile(blob, _cache.SparsePath(blob), _fetchers, _fetchers.Metrics, _logger);
                _server.Add(file);
                _files[blob.Digest] = file;
            }

            return file;
        }
    }
}
