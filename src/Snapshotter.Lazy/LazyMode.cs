namespace Snapshotter.Lazy;

/// <summary>How lazily pulled images are served (<c>--lazy-mode</c>, config key <c>lazy_mode</c>).</summary>
internal enum LazyMode
{
    /// <summary>
    /// The best this host supports: <see cref="Fscache"/> when cachefiles on-demand works, else <see cref="Fuse"/> when
    /// the kernel mounts EROFS from regular files and /dev/fuse works, else <see cref="BlobFetch"/>.
    /// </summary>
    Auto,

    /// <summary>EROFS over fscache with the cachefiles on-demand daemon: every miss is fetched on demand.</summary>
    Fscache,

    /// <summary>
    /// Blob files served over FUSE, EROFS mounted from them (Linux 6.12+): every miss is fetched on demand, the kernel
    /// still parses the filesystem.
    /// </summary>
    Fuse,

    /// <summary>Each data blob is downloaded whole and verified, then EROFS is mounted from the local files.</summary>
    BlobFetch,
}
