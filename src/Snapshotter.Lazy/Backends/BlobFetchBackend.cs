using Microsoft.Extensions.Logging;
using Snapshotter.Telemetry;
using Snapshotter.Lazy.Blobs;
using Snapshotter.Lazy.Images;
using Snapshotter.Lazy.Mounting;
using Snapshotter.Registry;

namespace Snapshotter.Lazy.Backends;

/// <summary>
/// The fallback that works on every kernel: each data blob is downloaded once (per domain, kept in the cache directory)
/// and verified, then the bootstrap is mounted with the blob files as EROFS from regular files (Linux 6.12+) or through
/// loop devices. Nothing is fetched after the mount, so the mount survives a restart of the daemon.
/// </summary>
internal sealed class BlobFetchBackend(BlobFileCache cache, RegistryClient client, bool fileBacked, SnapshotterMetrics metrics, ILogger logger) : ILazyBackend
{
    public const string ModeName = "blob-fetch";

    public string Mode => ModeName;

    /// <summary>The local blob files.</summary>
    public BlobFileCache Cache => cache;

    /// <summary>Whether EROFS is mounted straight from files (else loop devices).</summary>
    public bool FileBacked => fileBacked;

    public async ValueTask<IAsyncDisposable> MountAsync(LazyImage image, string mountPoint, CancellationToken cancellationToken = default)
    {
        var files = await Task.WhenAll(image.Blobs.Select(blob =>
            blob.GetState(b => new CompleteBlobFile(b, cache, client, metrics, logger)).EnsureAsync(cancellationToken))).ConfigureAwait(false);
        var links = cache.LinkDirectory(mountPoint);
        await Task.Run(() => ErofsMounts.Mount(image.BootstrapPath, files, mountPoint, fileBacked, links), cancellationToken).ConfigureAwait(false);
        return new BackendMount(() =>
        {
            MountTable.Unmount(mountPoint);
            if (Directory.Exists(links))
            {
                Directory.Delete(links, recursive: true);
            }

            return ValueTask.CompletedTask;
        });
    }

    // The kernel reads the local files directly: reads are not seen here.
    public (long Fetched, long Read) Usage(LazyBlob blob) => (blob.FindState<CompleteBlobFile>()?.DownloadedBytes ?? 0, 0);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
