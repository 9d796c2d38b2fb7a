using System.Runtime.InteropServices;

namespace Snapshotter.Erofs.Interop;

/// <summary>
/// Owns one zstd context: a <c>ZSTD_CCtx</c> (reusing one avoids an allocation per chunk) or a <c>ZSTD_DStream</c>
/// (streaming decompression of tar+zstd layers), freed with the function that matches how it was created.
/// </summary>
internal sealed unsafe class SafeZstdHandle : SafeHandle
{
    private readonly delegate*<IntPtr, nuint> _free;

    private SafeZstdHandle(IntPtr context, delegate*<IntPtr, nuint> free)
        : base(IntPtr.Zero, ownsHandle: true)
    {
        _free = free;
        SetHandle(context);
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <summary>A new compression context; throws <see cref="InsufficientMemoryException"/> when zstd cannot allocate one.</summary>
    public static SafeZstdHandle CreateCompressionContext() =>
        Create(Libzstd.ZSTD_createCCtx(), &Libzstd.ZSTD_freeCCtx, "ZSTD_createCCtx");

    /// <summary>A new decompression stream; throws <see cref="InsufficientMemoryException"/> when zstd cannot allocate one.</summary>
    public static SafeZstdHandle CreateDecompressionStream() =>
        Create(Libzstd.ZSTD_createDStream(), &Libzstd.ZSTD_freeDStream, "ZSTD_createDStream");

    protected override bool ReleaseHandle()
    {
        _free(handle);
        return true;
    }

    private static SafeZstdHandle Create(IntPtr context, delegate*<IntPtr, nuint> free, string call) =>
        context == IntPtr.Zero ? throw new InsufficientMemoryException($"{call} failed") : new SafeZstdHandle(context, free);
}
