using System.Runtime.InteropServices;

namespace Snapshotter.Cache.Buffers;

/// <summary>
/// Page-aligned native memory. cachefiles writes the backing file with direct I/O, so a pwrite from an
/// unaligned user buffer fails (verified on 6.1, see shared/reference/cachefiles-ondemand.md).
/// </summary>
public sealed unsafe class AlignedBuffer : IDisposable
{
    public const int PageSize = 4096;

    private byte* _pointer;

    public AlignedBuffer(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Capacity = AlignUp(capacity);
        _pointer = (byte*)NativeMemory.AlignedAlloc((nuint)Capacity, PageSize);
    }

    public int Capacity { get; }

    public byte* Pointer => _pointer != null ? _pointer : throw new ObjectDisposedException(nameof(AlignedBuffer));

    public Span<byte> Span => new(Pointer, Capacity);

    public static int AlignUp(int value) => (value + PageSize - 1) & ~(PageSize - 1);

    public static long AlignUp(long value) => (value + PageSize - 1) & ~(long)(PageSize - 1);

    public static long AlignDown(long value) => value & ~(long)(PageSize - 1);

    public void Dispose()
    {
        if (_pointer != null)
        {
            NativeMemory.AlignedFree(_pointer);
            _pointer = null;
        }
    }
}
