using Microsoft.Win32.SafeHandles;
using Tmds.Linux;

namespace Snapshotter.Interop;

/// <summary>Owns one file descriptor (a device fd, an object's anonymous fd, a file) and closes it exactly once.</summary>
internal sealed class SafeFdHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public SafeFdHandle()
        : base(ownsHandle: true)
    {
    }

    public SafeFdHandle(int fd, bool ownsHandle = true)
        : base(ownsHandle)
    {
        SetHandle(fd);
    }

    /// <summary>The raw descriptor; valid while a reference is held or the handle is known to be open.</summary>
    public int Fd => (int)handle;

    protected override bool ReleaseHandle() => LibC.close((int)handle) == 0;
}
