using System.Runtime.InteropServices;

namespace Snapshotter.Fuse.Protocol;

/// <summary>
/// <c>struct fuse_init_in</c>: 16 bytes up to protocol 7.35, 64 bytes from 7.36 on (<c>flags2</c> and reserved
/// words). <see cref="FuseWire.TryReadInitIn"/> accepts both sizes.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseInitIn
{
    public const int CompatSize = 16;
    public const int Size = 64;

    public uint Major;
    public uint Minor;
    public uint MaxReadahead;
    public uint Flags;
    public uint Flags2;
    public Unused11 Unused;

    /// <summary>All 64 INIT flag bits (flags2 only counts when FUSE_INIT_EXT is set).</summary>
    public readonly FuseInitFlags AllFlags
    {
        get
        {
            ulong all = Flags;
            if ((all & (ulong)FuseInitFlags.InitExt) != 0)
            {
                all |= (ulong)Flags2 << 32;
            }

            return (FuseInitFlags)all;
        }
    }

    [System.Runtime.CompilerServices.InlineArray(11)]
    public struct Unused11
    {
        private uint _element;
    }
}
