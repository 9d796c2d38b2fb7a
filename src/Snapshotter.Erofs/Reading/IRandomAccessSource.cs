namespace Snapshotter.Erofs.Reading;

/// <summary>
/// Positional read access to a bootstrap or to one device's (uncompressed) address space. Small by
/// design so a file, a byte array, a data blob or a lazily fetched remote blob can stand behind it.
/// </summary>
public interface IRandomAccessSource
{
    /// <summary>The size of the address space in bytes.</summary>
    long Length { get; }

    /// <summary>
    /// Reads up to <c>destination.Length</c> bytes at <paramref name="offset"/>; returns how many were
    /// read (fewer only at the end of the address space).
    /// </summary>
    int ReadAt(long offset, Span<byte> destination);
}
