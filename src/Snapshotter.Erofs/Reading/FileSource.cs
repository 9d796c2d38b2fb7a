using Microsoft.Win32.SafeHandles;

namespace Snapshotter.Erofs.Reading;

/// <summary>An <see cref="IRandomAccessSource"/> over a regular file (pread).</summary>
internal sealed class FileSource : IRandomAccessSource, IDisposable
{
    private readonly SafeFileHandle _handle;

    public FileSource(string path)
    {
        _handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        Length = RandomAccess.GetLength(_handle);
    }

    /// <inheritdoc />
    public long Length { get; }

    /// <inheritdoc />
    public int ReadAt(long offset, Span<byte> destination)
    {
        if (offset < 0 || offset >= Length)
        {
            return 0;
        }

        int total = 0;
        while (total < destination.Length)
        {
            int n = RandomAccess.Read(_handle, destination[total..], offset + total);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return total;
    }

    public void Dispose() => _handle.Dispose();
}
