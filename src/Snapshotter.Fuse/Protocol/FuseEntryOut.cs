using System.Runtime.InteropServices;

namespace Snapshotter.Fuse.Protocol;

/// <summary><c>struct fuse_entry_out</c> (128 bytes): LOOKUP reply and the head of each READDIRPLUS entry.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseEntryOut
{
    public const int Size = 128;

    public ulong NodeId;
    public ulong Generation;
    public ulong EntryValid;
    public ulong AttrValid;
    public uint EntryValidNsec;
    public uint AttrValidNsec;
    public FuseAttr Attr;
}
