namespace Snapshotter.Cache.Fetching;

/// <summary>
/// One sequential reader's readahead state inside a <see cref="BlobChunkFetcher"/> (guarded by the fetcher's lock):
/// background requests go from <see cref="Next"/> up to <see cref="Limit"/>, a window past the reader's latest READ.
/// </summary>
internal sealed class SequentialStream
{
    /// <summary>First chunk of the latest READ that anchored this stream; -1 when unused.</summary>
    public int Anchor { get; set; } = -1;

    /// <summary>Next chunk the stream would fetch.</summary>
    public int Next { get; set; }

    /// <summary>Stored offset no background request of this stream starts at or beyond.</summary>
    public long Limit { get; set; }

    /// <summary>Current window in stored bytes (doubles while the reader keeps up).</summary>
    public long Window { get; set; }

    /// <summary>When the stream was last anchored (a counter), to replace the least recently used one.</summary>
    public long LastUsed { get; set; }

    /// <summary>Whether a READ at <paramref name="first"/> continues this stream (lands between its anchor and its front).</summary>
    public bool Continues(int first) => Anchor >= 0 && first >= Anchor && first <= Next;
}
