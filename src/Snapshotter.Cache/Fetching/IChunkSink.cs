using Snapshotter.Cache.Buffers;

namespace Snapshotter.Cache.Fetching;

/// <summary>Where fetched, verified chunks go: the cache file of the blob's object.</summary>
public interface IChunkSink
{
    /// <summary>
    /// Writes <paramref name="length"/> bytes of <paramref name="buffer"/> at <paramref name="offset"/> (4 KiB aligned) of
    /// the uncompressed address space, zero-padded to 4 KiB. Returns 0 or a negative errno.
    /// </summary>
    int Write(AlignedBuffer buffer, int length, long offset);
}
