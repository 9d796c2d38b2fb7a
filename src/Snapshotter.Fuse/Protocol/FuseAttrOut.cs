using System.Runtime.InteropServices;

namespace Snapshotter.Fuse.Protocol;

/// <summary><c>struct fuse_attr_out</c> (104 bytes): GETATTR reply.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseAttrOut
{
    public const int Size = 104;

    public ulong AttrValid;
    public uint AttrValidNsec;
    public uint Dummy;
    public FuseAttr Attr;
}
