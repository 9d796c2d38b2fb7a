using System.Buffers.Binary;

namespace Snapshotter.Erofs.Building;

/// <summary>A 32-byte chunk digest (sha256 or blake3) as a dictionary key without allocating per lookup.</summary>
internal readonly record struct Hash256(ulong A, ulong B, ulong C, ulong D)
{
    public static Hash256 From(ReadOnlySpan<byte> digest) => new(
        BinaryPrimitives.ReadUInt64LittleEndian(digest),
        BinaryPrimitives.ReadUInt64LittleEndian(digest[8..]),
        BinaryPrimitives.ReadUInt64LittleEndian(digest[16..]),
        BinaryPrimitives.ReadUInt64LittleEndian(digest[24..]));
}
