using Microsoft.Extensions.Logging;
using Snapshotter.Telemetry;
using Snapshotter.Cachefiles.Daemon;
using Snapshotter.Core.Remote;
using Snapshotter.Lazy.Blobs;
using Snapshotter.Lazy.Mounting;

namespace Snapshotter.Lazy.Backends;

/// <summary>
/// Picks the backend at start, in order of preference: fscache (cachefiles on-demand binds), fuse (EROFS mounts from
/// regular files and /dev/fuse works), blob-fetch (always). Every step that fails is logged with the kernel's reason;
/// an on-demand mode the kernel refuses is counted as a fallback.
/// </summary>
internal static class BackendSelector
{
    public static (ILazyBackend Backend, string Reason) Select(
        LazyOptions options, string cacheDirectory, LazyBlobRegistry blobs, BlobFetcherFactory fetchers, BlobFetchBackend blobFetch,
        SnapshotterMetrics metrics, RemoteStatistics? statistics, ILogger logger)
    {
        var reasons = new List<string>();
        if (options.Mode is LazyMode.Auto or LazyMode.Fscache)
        {
            if (TryFscache(options, cacheDirectory, blobs, fetchers, metrics, statistics, logger, out var fscache, out var why))
            {
                return (fscache, why);
            }

            reasons.Add($"fscache: {why}");
            Unavailable(options, LazyMode.Fscache, why, logger);
        }

        if (options.Mode is LazyMode.Auto or LazyMode.Fscache or LazyMode.Fuse)
        {
            if (TryFuse(options, cacheDirectory, blobFetch.FileBacked, fetchers, blobFetch.Cache, logger, out var fuse, out var why))
            {
                return (fuse, Join(reasons, why));
            }

            reasons.Add($"fuse: {why}");
            Unavailable(options, LazyMode.Fuse, why, logger);
        }

        var fileReason = blobFetch.FileBacked ? "EROFS is mounted from the downloaded files" : "EROFS is mounted through loop devices";
        return (blobFetch, Join(reasons, $"data blobs are downloaded whole when an image is first mounted; {fileReason}"));
    }

    private static bool TryFscache(
        LazyOptions options, string cacheDirectory, LazyBlobRegistry blobs, BlobFetcherFactory fetchers, SnapshotterMetrics metrics,
        RemoteStatistics? statistics, ILogger logger, out ILazyBackend backend, out string reason)
    {
        backend = null!;
        if (!File.Exists(options.CachefilesDevice))
        {
            reason = $"{options.CachefilesDevice} does not exist (the kernel lacks CONFIG_CACHEFILES / CONFIG_CACHEFILES_ONDEMAND)";
            if (options.Mode == LazyMode.Fscache)
            {
                statistics?.RecordFallback(FallbackReason.OnDemandRefused);
            }

            return false;
        }

        var directory = Path.Combine(cacheDirectory, "fscache");
        try
        {
            backend = FscacheBackend.Start(options.CachefilesDevice, directory, options.DomainId, blobs, fetchers, options.Prefetch, metrics, logger);
            reason = $"cachefiles on-demand is bound on {directory}";
            return true;
        }
        catch (OnDemandUnsupportedException e)
        {
            statistics?.RecordFallback(FallbackReason.OnDemandRefused);
            reason = e.Message;
            return false;
        }
    }

    private static bool TryFuse(LazyOptions options, string cacheDirectory, bool fileBacked, BlobFetcherFactory fetchers, BlobFileCache cache, ILogger logger, out ILazyBackend backend, out string reason)
    {
        backend = null!;
        if (!fileBacked)
        {
            reason = "the kernel cannot mount EROFS from regular files (Linux 6.12+ with CONFIG_EROFS_FS_BACKED_BY_FILE is needed)";
            return false;
        }

        if (!File.Exists("/dev/fuse"))
        {
            reason = "/dev/fuse does not exist (CONFIG_FUSE_FS)";
            return false;
        }

        var mountPoint = Path.Combine(cacheDirectory, "fuse");
        try
        {
            var fuse = FuseBackend.Start(mountPoint, options.FuseServer, cache, fetchers, logger);
            backend = fuse;
            reason = $"blob files are served over FUSE at {mountPoint} (mounted at the first lazy image) and EROFS is mounted from them";
            return true;
        }
        catch (IOException e)
        {
            MountTable.DetachAll(mountPoint);
            reason = e.Message;
            return false;
        }
    }

    private static void Unavailable(LazyOptions options, LazyMode mode, string reason, ILogger logger)
    {
        if (options.Mode == mode && !options.FallBackWhenUnavailable)
        {
            throw SnapshotterException.FailedPrecondition($"lazy mode {LazyModes.Name(mode)} is unavailable: {reason}");
        }

        Log.ModeUnavailable(logger, LazyModes.Name(mode), reason);
    }

    private static string Join(List<string> unavailable, string chosen) =>
        unavailable.Count == 0 ? chosen : $"{chosen} ({string.Join("; ", unavailable)})";
}
