namespace Snapshotter.Cache.Fetching;

/// <summary>Background prefetch of a whole data blob after it is opened.</summary>
public sealed class PrefetchOptions
{
    /// <summary>Fetch the rest of each blob in the background once the kernel opens it. Defaults to false.</summary>
    public bool Enabled { get; init; }

    /// <summary>Stored bytes fetched per prefetch request. Defaults to 4 MiB.</summary>
    public int BatchSize { get; init; } = 4 * 1024 * 1024;

    /// <summary>Upper bound on prefetch bandwidth in stored bytes per second; 0 means unlimited. Defaults to 0.</summary>
    public long BandwidthBytesPerSecond { get; init; }

    /// <summary>How long prefetch backs off while on-demand READs are being fetched. Defaults to 20 ms.</summary>
    public TimeSpan YieldDelay { get; init; } = TimeSpan.FromMilliseconds(20);
}
