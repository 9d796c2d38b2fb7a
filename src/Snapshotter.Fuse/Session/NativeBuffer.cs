using System.Buffers;
using System.Runtime.InteropServices;

namespace Snapshotter.Fuse.Session;

/// <summary>
/// A page-aligned block of native memory exposed as <see cref="Memory{T}"/> (created once per pooled request, so a
/// READ allocates nothing). Pages are only resident once touched, so large blocks cost what reads really use.
/// </summary>
internal sealed unsafe class NativeBuffer : MemoryManager<byte>
{
    public const int PageSize = 4096;

    private byte* _pointer;

    public NativeBuffer(int length)
    {
        Length = length;
        _pointer = (byte*)NativeMemory.AlignedAlloc((nuint)length, PageSize);
    }

    public int Length { get; }

    public byte* Pointer => _pointer;

    public override Span<byte> GetSpan() => new(_pointer, Length);

    public override MemoryHandle Pin(int elementIndex = 0) => new(_pointer + elementIndex);

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
        if (_pointer != null)
        {
            NativeMemory.AlignedFree(_pointer);
            _pointer = null;
        }
    }
}
