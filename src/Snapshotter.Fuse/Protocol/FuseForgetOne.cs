using System.Runtime.InteropServices;

namespace Snapshotter.Fuse.Protocol;

/// <summary><c>struct fuse_forget_one</c> (16 bytes): one entry of BATCH_FORGET (after an 8-byte count header).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseForgetOne
{
    public const int Size = 16;

    public ulong NodeId;
    public ulong Nlookup;
}
