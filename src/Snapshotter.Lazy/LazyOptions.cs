using Snapshotter.Cache.Fetching;

namespace Snapshotter.Lazy;

/// <summary>Settings of the lazy-image component. Every property has a documented default except the cache directory.</summary>
internal sealed class LazyOptions
{
    /// <summary>The mode to use. Defaults to <see cref="LazyMode.Auto"/>.</summary>
    public LazyMode Mode { get; init; } = LazyMode.Auto;

    /// <summary>
    /// Where cached data lives: <c>fscache/</c> (cachefiles; must be on ext4, xfs or btrfs), <c>blobs/</c> (local blob
    /// files), <c>bootstraps/</c> (bootstraps downloaded by <c>snapshotter mount</c>). Required.
    /// </summary>
    public required string CacheDirectory { get; init; }

    /// <summary>The fscache domain every image shares (one cache object per data blob). Defaults to <c>lazysnap</c>.</summary>
    public string DomainId { get; init; } = "lazysnap";

    /// <summary>Platform picked from image indexes (os/arch[/variant]). Defaults to the registry client's (linux/amd64).</summary>
    public string? Platform { get; init; }

    /// <summary>READ to Range GET policy (amplification, merging, sequential readahead).</summary>
    public ChunkFetcherOptions Fetch { get; init; } = new();

    /// <summary>Background prefetch of whole blobs once opened. Defaults to off.</summary>
    public PrefetchOptions Prefetch { get; init; } = new();

    /// <summary>Largest bootstrap layer <c>snapshotter mount</c> downloads. Defaults to 512 MiB.</summary>
    public long MaxBootstrapSize { get; init; } = 512L * 1024 * 1024;

    /// <summary>
    /// When the requested mode (<see cref="LazyMode.Fscache"/> or <see cref="LazyMode.Fuse"/>) is unavailable, serve in the
    /// next one that works instead
    /// (the daemon must never fail a pull for it). False makes <see cref="LazyFileSystem.CreateAsync"/> throw with the
    /// reason (the CLI, where the user asked for that mode). Defaults to true.
    /// </summary>
    public bool FallBackWhenUnavailable { get; init; } = true;

    /// <summary>The cachefiles device. Defaults to <c>/dev/cachefiles</c>.</summary>
    public string CachefilesDevice { get; init; } = "/dev/cachefiles";

    /// <summary>
    /// How the fuse mode's FUSE server mounts and negotiates (benchmarks and tests compare settings). Defaults to
    /// <see cref="Fuse.FuseServerOptions"/>' defaults with <see cref="Fuse.FuseServerOptions.AsyncDirectIo"/> on: with
    /// <see cref="FuseErofsDirectIo"/> each EROFS read of a blob file is otherwise a synchronous FUSE request, which the
    /// kernel interrupts on any signal the reader catches, and EROFS turns the interrupted read into EIO (a dd(1) sent
    /// SIGUSR1 during a slow fetch failed; FuseSignalTests). Background requests are never interrupted.
    /// </summary>
    internal Fuse.FuseServerOptions FuseServer { get; init; } = new() { AsyncDirectIo = true };

    /// <summary>
    /// Mount the fuse mode's EROFS with <c>-o directio</c>: EROFS reads the FUSE blob files with O_DIRECT (split into
    /// parallel background READs by FUSE_ASYNC_DIO), so blob data is not cached a second time in the blob files' page
    /// cache. Why on: measured with bench/run-fuse-lazy.sh (bench/RESULTS.md, FUSE blob files: in-process variants,
    /// interleaved, 5-9 rounds, load 10-16 on 2 cores), a cold sequential read of 256 MiB added 648 instead of 906 MiB
    /// of page cache, and took less time than buffered reads in each of seven runs (medians 0.74 vs 1.00 s, 0.92 vs
    /// 1.07 s, 1.01 vs 1.19 s, 1.07 vs 1.19 s, 1.09 vs 1.10 s, 1.22 vs 1.34 s, 1.22 vs 1.87 s). A re-mounted image's
    /// pages are then answered from the sparse cache file (1027 READs, 1.5-2.2 GB/s) instead of kept by
    /// FOPEN_KEEP_CACHE (0 READs, 1.2-2.8 GB/s). A kernel without the option (before 6.13) gets the buffered mount.
    /// Defaults to true.
    /// </summary>
    internal bool FuseErofsDirectIo { get; init; } = true;
}
