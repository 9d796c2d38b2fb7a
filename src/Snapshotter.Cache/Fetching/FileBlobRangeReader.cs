using Microsoft.Win32.SafeHandles;

namespace Snapshotter.Cache.Fetching;

/// <summary>Reads ranges of a stored blob that is a local file (a fully downloaded blob, or a test fixture).</summary>
internal sealed class FileBlobRangeReader : IBlobRangeReader, IDisposable
{
    private readonly SafeFileHandle _file;

    public FileBlobRangeReader(string path)
    {
        _file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.Asynchronous);
        Length = RandomAccess.GetLength(_file);
    }

    public long Length { get; }

    public async ValueTask ReadAsync(long offset, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        if (offset < 0 || offset + destination.Length > Length)
        {
            throw new IOException($"range [{offset}, +{destination.Length}) is outside the blob ({Length} bytes)");
        }

        var done = 0;
        while (done < destination.Length)
        {
            var n = await RandomAccess.ReadAsync(_file, destination[done..], offset + done, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                throw new EndOfStreamException($"blob ended at {offset + done}, expected {destination.Length - done} more bytes");
            }

            done += n;
        }
    }

    public void Dispose() => _file.Dispose();
}
