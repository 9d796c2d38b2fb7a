namespace Snapshotter.Erofs.Reading;

/// <summary>An <see cref="IRandomAccessSource"/> over bytes already in memory (tests, small bootstraps).</summary>
internal sealed class MemorySource : IRandomAccessSource
{
    private readonly ReadOnlyMemory<byte> _data;

    public MemorySource(ReadOnlyMemory<byte> data)
    {
        _data = data;
    }

    /// <inheritdoc />
    public long Length => _data.Length;

    /// <inheritdoc />
    public int ReadAt(long offset, Span<byte> destination)
    {
        if (offset < 0 || offset >= _data.Length)
        {
            return 0;
        }

        int n = (int)Math.Min(destination.Length, _data.Length - offset);
        _data.Span.Slice((int)offset, n).CopyTo(destination);
        return n;
    }
}
