using System.Security.Cryptography;

namespace Snapshotter.Oci;

/// <summary>Computes and names chunk digests (<see cref="ChunkDigester"/>) without allocating.</summary>
public static class ChunkDigest
{
    /// <summary>The size of every chunk digest (sha256 and blake3 both give 32 bytes).</summary>
    public const int Size = 32;

    /// <summary>Writes the <paramref name="digester"/> hash of <paramref name="data"/> to the first <see cref="Size"/> bytes of <paramref name="digest"/>.</summary>
    public static void Compute(ChunkDigester digester, ReadOnlySpan<byte> data, Span<byte> digest)
    {
        switch (digester)
        {
            case ChunkDigester.Blake3:
                Blake3.Hasher.Hash(data, digest[..Size]);
                break;
            case ChunkDigester.Sha256:
                SHA256.HashData(data, digest);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(digester), digester, "unknown chunk digester");
        }
    }

    /// <summary>Whether the <paramref name="digester"/> hash of <paramref name="data"/> is <paramref name="expected"/> (<see cref="Size"/> bytes).</summary>
    public static bool Matches(ChunkDigester digester, ReadOnlySpan<byte> data, ReadOnlySpan<byte> expected)
    {
        Span<byte> digest = stackalloc byte[Size];
        Compute(digester, data, digest);
        return digest.SequenceEqual(expected);
    }

    /// <summary>The lower-case name used in messages and on the command line (<c>blake3</c>, <c>sha256</c>).</summary>
    public static string Name(ChunkDigester digester) => digester switch
    {
        ChunkDigester.Blake3 => "blake3",
        ChunkDigester.Sha256 => "sha256",
        _ => throw new ArgumentOutOfRangeException(nameof(digester), digester, "unknown chunk digester"),
    };
}
