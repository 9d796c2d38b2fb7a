using Microsoft.Win32.SafeHandles;
using Snapshotter.Cache.Buffers;
using Snapshotter.Cache.Fetching;

namespace Snapshotter.Lazy.Blobs;

/// <summary>Writes fetched chunks into a local (sparse) blob file at their uncompressed offsets.</summary>
internal sealed class FileChunkSink(SafeFileHandle file) : IChunkSink
{
    public FillResult Write(AlignedBuffer buffer, int length, long offset)
    {
        // Zero-pad to the page as the contract says: the file's holes stay holes, the written pages are complete.
        var padded = AlignedBuffer.AlignUp(length);
        if (padded > buffer.Capacity)
        {
            padded = length;
        }

        buffer.Span[length..padded].Clear();
        try
        {
            RandomAccess.Write(file, buffer.Span[..padded], offset);
            return FillResult.Success;
        }
        catch (IOException)
        {
            // Disk full or an I/O error: the fetcher logs the failed chunk; the reader gets EIO.
            return FillResult.Failed(FillError.WriteFailed);
        }
    }
}
