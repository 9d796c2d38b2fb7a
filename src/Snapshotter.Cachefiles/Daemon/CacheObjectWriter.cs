using Snapshotter.Cache.Buffers;
using Snapshotter.Cachefiles.Interop;
using Tmds.Linux;

namespace Snapshotter.Cachefiles.Daemon;

/// <summary>Writes fetched bytes into one object's cache file (its anonymous fd), page-aligned as cachefiles needs.</summary>
public sealed class CacheObjectWriter : IChunkSink
{
    private readonly SafeFdHandle _fd;

    internal CacheObjectWriter(SafeFdHandle fd, long objectSize)
    {
        _fd = fd;
        ObjectSize = objectSize;
    }

    /// <summary>The object's size; writes past it are cut and the last block is zero-padded to 4 KiB.</summary>
    public long ObjectSize { get; }

    /// <summary>
    /// Writes <paramref name="length"/> bytes of <paramref name="buffer"/> at <paramref name="offset"/> (a multiple of
    /// 4 KiB), zero-padding to the next 4 KiB boundary (the buffer must have room). Fails with
    /// <see cref="FillError.WriteFailed"/> and the errno of <c>pwrite</c> (EINVAL for a misaligned or oversized write).
    /// </summary>
    public unsafe FillResult Write(AlignedBuffer buffer, int length, long offset)
    {
        if ((offset & (AlignedBuffer.PageSize - 1)) != 0 || length < 0 || length > buffer.Capacity)
        {
            return FillResult.Failed(FillError.WriteFailed, LibC.EINVAL);
        }

        var padded = AlignedBuffer.AlignUp(length);
        if (padded > buffer.Capacity)
        {
            return FillResult.Failed(FillError.WriteFailed, LibC.EINVAL);
        }

        buffer.Span[length..padded].Clear();
        return padded == 0 ? FillResult.Success : FillResult.FromErrno(Syscalls.PwriteAll(_fd, buffer.Pointer, padded, offset), FillError.WriteFailed);
    }
}
