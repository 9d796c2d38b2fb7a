namespace Snapshotter.Cache.Fetching;

/// <summary>Reads byte ranges of one stored data blob (from the registry, or a local file).</summary>
public interface IBlobRangeReader
{
    /// <summary>
    /// Fills <paramref name="destination"/> with the blob's bytes starting at <paramref name="offset"/>: exactly
    /// <c>destination.Length</c> bytes, or throws. Never returns short or wrong data as success.
    /// </summary>
    ValueTask ReadAsync(long offset, Memory<byte> destination, CancellationToken cancellationToken = default);

    /// <summary>
    /// As <see cref="ReadAsync(long, Memory{byte}, CancellationToken)"/>, and meanwhile calls <paramref name="progress"/>
    /// with <c>n</c> whenever the first <c>n</c> bytes of <paramref name="destination"/> hold the blob's bytes, before the
    /// whole range is in (so that the head of a long range can be used before its end; a retry may report a smaller
    /// <c>n</c> again). Never reports the whole length: the range is complete only when the read succeeds. The
    /// default reports nothing.
    /// </summary>
    ValueTask ReadAsync(long offset, Memory<byte> destination, Action<int> progress, CancellationToken cancellationToken = default) =>
        ReadAsync(offset, destination, cancellationToken);
}
