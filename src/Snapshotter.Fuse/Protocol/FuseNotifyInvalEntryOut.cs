using System.Runtime.InteropServices;

namespace Snapshotter.Fuse.Protocol;

/// <summary>
/// <c>struct fuse_notify_inval_entry_out</c> (16 bytes), followed by the name and a NUL: drops a cached name
/// (after <see cref="FuseServer.Remove"/>, whose entry the kernel may otherwise keep for the entry timeout).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseNotifyInvalEntryOut
{
    public const int Size = 16;

    public ulong Parent;
    public uint Namelen;
    public uint Flags;
}
