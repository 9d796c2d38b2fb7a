using System.Runtime.InteropServices;

namespace Snapshotter.Erofs.Interop;

/// <summary>Owns a <c>ZSTD_CCtx</c>; reusing one context avoids an allocation per chunk.</summary>
internal sealed class SafeZstdCCtxHandle : SafeHandle
{
    public SafeZstdCCtxHandle()
        : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        Libzstd.ZSTD_freeCCtx(handle);
        return true;
    }
}
