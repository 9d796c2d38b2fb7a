using Snapshotter.Erofs.Reading;

namespace Snapshotter.Lazy.Blobs;

/// <summary>
/// A data blob of which only the tail is local: chunk-info table, blob-meta header, digests and ToC all follow the
/// chunk data, so one Range GET from the chunk-info offset to the end gives the reader everything it parses.
/// </summary>
internal sealed class TailSource(long length, long tailOffset, byte[] tail) : IRandomAccessSource
{
    public long Length { get; } = length;

    public int ReadAt(long offset, Span<byte> destination)
    {
        if (offset < tailOffset || offset >= Length)
        {
            return 0;
        }

        var n = (int)Math.Min(destination.Length, Length - offset);
        tail.AsSpan((int)(offset - tailOffset), n).CopyTo(destination);
        return n;
    }
}
