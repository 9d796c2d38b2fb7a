using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Snapshotter.Cache.Buffers;
using Snapshotter.Lazy.Interop;

namespace Snapshotter.Lazy.Blobs;

/// <summary>
/// A second handle on a cache file opened O_DIRECT, so that chunk writes and READ read-backs bypass the page cache.
/// Why: in FUSE mode the kernel already caches the data in the FUSE file's page cache; a buffered cache file held it
/// twice, and its pwrite was the daemon's largest kernel cost (copying into freshly allocated page-cache pages:
/// bench/RESULTS.md, issue 11 profile).
/// </summary>
internal static class DirectFile
{
    /// <summary>Opens <paramref name="path"/> O_DIRECT for reading and writing, or null where the file system refuses it (tmpfs).</summary>
    public static SafeFileHandle? TryOpen(string path)
    {
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        if (DirectIoCalls.TrySetDirect(handle))
        {
            return handle;
        }

        handle.Dispose();
        return null;
    }

    /// <summary>Whether a transfer of <paramref name="span"/> at <paramref name="offset"/> meets O_DIRECT's alignment (a page: safe for any block size up to it).</summary>
    public static unsafe bool IsAligned(ReadOnlySpan<byte> span, long offset)
    {
        fixed (byte* pointer = &MemoryMarshal.GetReference(span))
        {
            return offset % AlignedBuffer.PageSize == 0 && span.Length % AlignedBuffer.PageSize == 0 && (nint)pointer % AlignedBuffer.PageSize == 0;
        }
    }
}
