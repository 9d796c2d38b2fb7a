using Microsoft.Win32.SafeHandles;
using Tmds.Linux;

namespace Snapshotter.Fuse.Interop;

/// <summary>Owns one file descriptor (a /dev/fuse session or clone fd, an eventfd) and closes it exactly once.</summary>
internal sealed class SafeFdHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public SafeFdHandle(int fd)
        : base(ownsHandle: true)
    {
        SetHandle(fd);
    }

    /// <summary>The raw descriptor; valid while a reference is held or the handle is known to be open.</summary>
    public int Fd => (int)handle;

    protected override bool ReleaseHandle() => LibC.close((int)handle) == 0;
}
