namespace Snapshotter.Telemetry;

/// <summary>Where a lazy READ came from (the <c>backend</c> label of the read metrics).</summary>
public enum ReadBackend
{
    /// <summary>A cachefiles on-demand READ (EROFS over fscache).</summary>
    Fscache,

    /// <summary>A FUSE READ of a blob file.</summary>
    Fuse,
}
