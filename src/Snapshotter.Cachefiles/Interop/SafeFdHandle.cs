using Microsoft.Win32.SafeHandles;

namespace Snapshotter.Cachefiles.Interop;

/// <summary>Owns one file descriptor (the device fd or an object's anonymous fd) and closes it exactly once.</summary>
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

    /// <summary>The raw descriptor; only valid while a reference is held (<see cref="System.Runtime.InteropServices.SafeHandle.DangerousAddRef"/>).</summary>
    public int Fd => (int)handle;

    protected override bool ReleaseHandle() => Libc.close((int)handle) == 0;
}
