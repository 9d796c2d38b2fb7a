namespace Snapshotter.Core.Remote;

/// <summary>
/// Counters of the remote-snapshot path, bumped with <see cref="Interlocked"/> and read by the host's metrics class
/// (which owns the Meter). Thread-safe.
/// </summary>
public sealed class RemoteStatistics
{
    private readonly long[] _fallbacks = new long[Enum.GetValues<FallbackReason>().Length];
    private long _remoteCommits;
    private long _mounted;

    /// <summary>Layers committed remotely (no download).</summary>
    public long RemoteCommits => Volatile.Read(ref _remoteCommits);

    /// <summary>Lazy images mounted right now.</summary>
    public long Mounted => Volatile.Read(ref _mounted);

    /// <summary>How often <paramref name="reason"/> made something fall back to the ordinary path.</summary>
    public long Fallbacks(FallbackReason reason) => Volatile.Read(ref _fallbacks[(int)reason]);

    public void RecordFallback(FallbackReason reason) => Interlocked.Increment(ref _fallbacks[(int)reason]);

    internal void RecordRemoteCommit() => Interlocked.Increment(ref _remoteCommits);

    internal void RecordMounted() => Interlocked.Increment(ref _mounted);

    internal void RecordUnmounted() => Interlocked.Decrement(ref _mounted);
}
