using Tmds.Linux;

namespace Snapshotter.Lazy.Interop;

/// <summary>Allocated bytes of a file (statx st_blocks * 512: sparse cache files count only what they hold).</summary>
internal static unsafe class DiskUsageCalls
{
    public static long AllocatedBytes(string path)
    {
        var p = NativeString.Of(path);
        statx buffer;
        fixed (byte* pp = p)
        {
            if (LibC.statx(LibC.AT_FDCWD, pp, LibC.AT_SYMLINK_NOFOLLOW, LibC.STATX_BLOCKS, &buffer) != 0)
            {
                return 0;
            }
        }

        return (long)buffer.stx_blocks * 512;
    }
}
