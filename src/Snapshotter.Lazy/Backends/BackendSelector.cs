using Microsoft.Extensions.Logging;
using Snapshotter.Telemetry;
using Snapshotter.Cachefiles.Daemon;
using Snapshotter.Core.Remote;
using Snapshotter.Lazy.Blobs;
using Snapshotter.Lazy.Mounting;

namespace Snapshotter.Lazy.Backends;

/// <summary>
/// Starts the backend <see cref="LazyModeProbe.Decide"/> picks from the probed <see cref="LazyHostCapabilities"/> (the
/// decision <c>snapshotter check</c> reports): fscache, fuse or blob-fetch. A backend that fails to start after a good
/// probe (the device was taken in between) is judged unavailable and the decision is made again. Every better mode that
/// was unavailable is logged with its reason; an on-demand mode the kernel refuses is counted as a fallback.
/// </summary>
internal static class BackendSelector
{
    public static (ILazyBackend Backend, string Reason) Select(
        LazyOptions options, LazyHostCapabilities capabilities, string cacheDirectory, LazyBlobRegistry blobs, BlobFetcherFactory fetchers,
        BlobFetchBackend blobFetch, SnapshotterMetrics metrics, RemoteStatistics? statistics, ILogger logger)
    {
        while (true)
        {
            var decision = LazyModeProbe.Decide(options.Mode, capabilities, options.FallBackWhenUnavailable);
            if (decision.Mode is not { } mode)
            {
                Report(options, capabilities, null, statistics, logger);
                throw SnapshotterException.FailedPrecondition(decision.Error ?? decision.Reason);
            }

            if (TryStart(mode, options, cacheDirectory, blobs, fetchers, blobFetch, metrics, logger, out var backend, out var failure))
            {
                Report(options, capabilities, mode, statistics, logger);
                return (backend, decision.Reason);
            }

            capabilities = capabilities.With(new LazyModeVerdict(mode, false, failure));
        }
    }

    private static bool TryStart(
        LazyMode mode, LazyOptions options, string cacheDirectory, LazyBlobRegistry blobs, BlobFetcherFactory fetchers, BlobFetchBackend blobFetch,
        SnapshotterMetrics metrics, ILogger logger, out ILazyBackend backend, out string failure)
    {
        backend = blobFetch;
        failure = string.Empty;
        switch (mode)
        {
            case LazyMode.Fscache:
                try
                {
                    var directory = Path.Combine(cacheDirectory, "fscache");
                    backend = FscacheBackend.Start(options.CachefilesDevice, directory, options.DomainId, blobs, fetchers, options.Prefetch, metrics, logger);
                    return true;
                }
                catch (OnDemandUnsupportedException e)
                {
                    failure = e.Message;
                    return false;
                }

            case LazyMode.Fuse:
                var mountPoint = Path.Combine(cacheDirectory, "fuse");
                try
                {
                    backend = FuseBackend.Start(mountPoint, options, blobFetch.Cache, fetchers, logger);
                    return true;
                }
                catch (IOException e)
                {
                    MountTable.DetachAll(mountPoint);
                    failure = e.Message;
                    return false;
                }

            default:
                return true;
        }
    }

    /// <summary>Logs every candidate better than <paramref name="chosen"/> that was unavailable; counts a refused on-demand mode.</summary>
    private static void Report(LazyOptions options, LazyHostCapabilities capabilities, LazyMode? chosen, RemoteStatistics? statistics, ILogger logger)
    {
        foreach (var mode in LazyModeProbe.Candidates(options.Mode).TakeWhile(m => m != chosen))
        {
            if (capabilities.Verdict(mode) is not { Available: false } verdict)
            {
                continue;
            }

            // A kernel without the device is not a fallback under auto; a device that refuses to bind is.
            if (mode == LazyMode.Fscache && (options.Mode == LazyMode.Fscache || File.Exists(options.CachefilesDevice)))
            {
                statistics?.RecordFallback(FallbackReason.OnDemandRefused);
            }

            Log.ModeUnavailable(logger, LazyModes.Name(mode), verdict.Reason);
        }
    }
}
