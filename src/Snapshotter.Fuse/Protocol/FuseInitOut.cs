using System.Runtime.InteropServices;

namespace Snapshotter.Fuse.Protocol;

/// <summary><c>struct fuse_init_out</c> (64 bytes, protocol 7.40+ layout with max_stack_depth).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseInitOut
{
    public const int Size = 64;

    public uint Major;
    public uint Minor;
    public uint MaxReadahead;
    public uint Flags;
    public ushort MaxBackground;
    public ushort CongestionThreshold;
    public uint MaxWrite;
    public uint TimeGran;
    public ushort MaxPages;
    public ushort MapAlignment;
    public uint Flags2;
    public uint MaxStackDepth;
    public ushort RequestTimeout;
    public Unused11 Unused;

    /// <summary>Splits 64 flag bits into flags and flags2 (flags2 needs FUSE_INIT_EXT, which is then set too).</summary>
    public void SetFlags(FuseInitFlags flags)
    {
        var all = (ulong)flags;
        if ((all >> 32) != 0)
        {
            all |= (ulong)FuseInitFlags.InitExt;
        }

        Flags = (uint)all;
        Flags2 = (uint)(all >> 32);
    }

    [System.Runtime.CompilerServices.InlineArray(11)]
    public struct Unused11
    {
        private ushort _element;
    }
}
