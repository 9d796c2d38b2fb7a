using System.Runtime.InteropServices;

namespace Snapshotter.Erofs.Interop;

/// <summary>The subset of the zstd C API the chunk codec needs (system <c>libzstd.so.1</c>).</summary>
internal static unsafe partial class Libzstd
{
    private const string Library = "libzstd.so.1";

    [LibraryImport(Library)]
    internal static partial nuint ZSTD_compressBound(nuint srcSize);

    [LibraryImport(Library)]
    internal static partial uint ZSTD_isError(nuint code);

    [LibraryImport(Library)]
    internal static partial IntPtr ZSTD_createCCtx();

    [LibraryImport(Library)]
    internal static partial nuint ZSTD_freeCCtx(IntPtr cctx);

    [LibraryImport(Library)]
    internal static partial nuint ZSTD_compressCCtx(SafeZstdHandle cctx, byte* dst, nuint dstCapacity, byte* src, nuint srcSize, int compressionLevel);

    [LibraryImport(Library)]
    internal static partial nuint ZSTD_decompress(byte* dst, nuint dstCapacity, byte* src, nuint compressedSize);

    [StructLayout(LayoutKind.Sequential)]
    internal struct ZSTD_inBuffer
    {
        public byte* Src;
        public nuint Size;
        public nuint Pos;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct ZSTD_outBuffer
    {
        public byte* Dst;
        public nuint Size;
        public nuint Pos;
    }

    [LibraryImport(Library)]
    internal static partial IntPtr ZSTD_createDStream();

    [LibraryImport(Library)]
    internal static partial nuint ZSTD_freeDStream(IntPtr zds);

    [LibraryImport(Library)]
    internal static partial nuint ZSTD_decompressStream(SafeZstdHandle zds, ZSTD_outBuffer* output, ZSTD_inBuffer* input);

    [LibraryImport(Library)]
    internal static partial IntPtr ZSTD_getErrorName(nuint code);
}
