using Microsoft.Win32.SafeHandles;
using Tmds.Linux;

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

    /// <summary>Holds a reference for one system call: <c>using var fd = handle.Hold();</c> then use <see cref="FdReference.Fd"/>.</summary>
    public FdReference Hold() => new(this);

    protected override bool ReleaseHandle() => LibC.close((int)handle) == 0;
}
