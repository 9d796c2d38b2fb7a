using System.Runtime.InteropServices;

namespace Snapshotter.Erofs.Interop;

/// <summary>Owns a <c>ZSTD_DStream</c> (streaming decompression of tar+zstd layers).</summary>
internal sealed class SafeZstdDStreamHandle : SafeHandle
{
    public SafeZstdDStreamHandle()
        : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        Libzstd.ZSTD_freeDStream(handle);
        return true;
    }
}
