using System.Runtime.InteropServices;

namespace Snapshotter.Fuse.Protocol;

/// <summary><c>struct fuse_release_in</c> (24 bytes): RELEASE and RELEASEDIR requests.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseReleaseIn
{
    public const int Size = 24;

    public ulong Fh;
    public uint Flags;
    public uint ReleaseFlags;
    public ulong LockOwner;
}
