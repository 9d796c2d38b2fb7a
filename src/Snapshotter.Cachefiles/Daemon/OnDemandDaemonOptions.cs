namespace Snapshotter.Cachefiles.Daemon;

/// <summary>Settings of the on-demand cache daemon.</summary>
public sealed class OnDemandDaemonOptions
{
    /// <summary>The cachefiles device. Defaults to <c>/dev/cachefiles</c>.</summary>
    public string DevicePath { get; init; } = "/dev/cachefiles";

    /// <summary>
    /// Cache directory (must exist, on a filesystem with user xattrs and O_TMPFILE: ext4, xfs, btrfs; tmpfs is
    /// refused by 6.1). Required.
    /// </summary>
    public required string CacheDirectory { get; init; }

    /// <summary>Cache tag (names the cache in the kernel). Defaults to <c>lazysnap</c>.</summary>
    public string Tag { get; init; } = "lazysnap";

    /// <summary>READ requests served at once. Defaults to 32.</summary>
    public int MaxConcurrentReads { get; init; } = 32;

    /// <summary>How often the event loop wakes up to notice cancellation. Defaults to 200 ms.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// How long to keep retrying while <c>/dev/cachefiles</c> is busy: the kernel frees the previous session only
    /// after its last object is released, which can trail the previous daemon's exit. Defaults to 15 s.
    /// </summary>
    public TimeSpan BusyRetryTimeout { get; init; } = TimeSpan.FromSeconds(15);
}
