namespace Snapshotter.Cache.Fetching;

/// <summary>Reads byte ranges of one stored data blob (from the registry, or a local file).</summary>
public interface IBlobRangeReader
{
    /// <summary>
    /// Fills <paramref name="destination"/> with the blob's bytes starting at <paramref name="offset"/>: exactly
    /// <c>destination.Length</c> bytes, or throws. Never returns short or wrong data as success.
    /// </summary>
    ValueTask ReadAsync(long offset, Memory<byte> destination, CancellationToken cancellationToken = default);
}
