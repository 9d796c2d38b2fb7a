using Snapshotter.Cache.Buffers;

namespace Snapshotter.Cache.Fetching;

/// <summary>Where fetched, verified chunks go: the cache file of the blob's object.</summary>
public interface IChunkSink
{
    /// <summary>
    /// Writes <paramref name="length"/> bytes of <paramref name="buffer"/> at <paramref name="offset"/> (4 KiB aligned) of
    /// the uncompressed address space, zero-padded to 4 KiB. Fails with <see cref="FillError.WriteFailed"/> and the errno.
    /// </summary>
    FillResult Write(AlignedBuffer buffer, int length, long offset);
}
