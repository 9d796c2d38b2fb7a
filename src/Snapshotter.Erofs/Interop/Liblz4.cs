using System.Runtime.InteropServices;

namespace Snapshotter.Erofs.Interop;

/// <summary>The LZ4 block API (system <c>liblz4.so.1</c>).</summary>
internal static unsafe partial class Liblz4
{
    private const string Library = "liblz4.so.1";

    [LibraryImport(Library)]
    internal static partial int LZ4_compressBound(int inputSize);

    [LibraryImport(Library)]
    internal static partial int LZ4_compress_default(byte* src, byte* dst, int srcSize, int dstCapacity);

    [LibraryImport(Library)]
    internal static partial int LZ4_decompress_safe(byte* src, byte* dst, int compressedSize, int dstCapacity);
}
