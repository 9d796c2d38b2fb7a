using System.Security.Cryptography;

namespace Snapshotter.Oci;

/// <summary>OCI content digests (<c>algorithm:hex</c>); <c>sha256</c> and <c>sha512</c> are supported.</summary>
public static class OciDigest
{
    /// <summary>The algorithm prefix of sha256 digests, the ones this project writes.</summary>
    public const string Sha256Prefix = "sha256:";

    private const string Sha512Prefix = "sha512:";

    /// <summary>Returns the <c>sha256:</c> digest of <paramref name="content"/>.</summary>
    public static string Compute(ReadOnlySpan<byte> content)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(content, hash);
        return FromSha256(hash);
    }

    /// <summary>Returns the digest of <paramref name="content"/> in the algorithm of <paramref name="like"/> (sha512 or else sha256).</summary>
    public static string Compute(ReadOnlySpan<byte> content, string like)
    {
        ArgumentNullException.ThrowIfNull(like);
        if (!like.StartsWith(Sha512Prefix, StringComparison.Ordinal))
        {
            return Compute(content);
        }

        Span<byte> hash = stackalloc byte[SHA512.HashSizeInBytes];
        SHA512.HashData(content, hash);
        return Sha512Prefix + Convert.ToHexStringLower(hash);
    }

    /// <summary>The <c>sha256:</c> digest of a finished sha256 hash.</summary>
    public static string FromSha256(ReadOnlySpan<byte> hash) => Sha256Prefix + Convert.ToHexStringLower(hash);

    /// <summary>The <c>sha256:</c> digest whose hex part is <paramref name="hex"/> (e.g. a blob id or device tag).</summary>
    public static string FromSha256Hex(string hex) => Sha256Prefix + hex;

    /// <summary>
    /// The hex part of <paramref name="digest"/> (what follows <c>algorithm:</c>): the blob id of a data blob, the
    /// file name under <c>blobs/sha256/</c>. Throws <see cref="FormatException"/> unless the digest is valid.
    /// </summary>
    public static string Hex(string digest)
    {
        if (!IsValid(digest))
        {
            throw new FormatException($"invalid digest \"{digest}\": expected sha256:<64 hex> or sha512:<128 hex>");
        }

        return digest[(digest.IndexOf(':', StringComparison.Ordinal) + 1)..];
    }

    /// <summary>True when <paramref name="digest"/> is a well-formed sha256 digest (lowercase hex).</summary>
    public static bool IsSha256(string? digest) => IsValid(digest) && digest.StartsWith(Sha256Prefix, StringComparison.Ordinal);

    /// <summary>True when <paramref name="digest"/> is a well-formed sha256 or sha512 digest (lowercase hex).</summary>
    public static bool IsValid([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? digest)
    {
        if (digest is null)
        {
            return false;
        }

        int hexLength;
        if (digest.StartsWith(Sha256Prefix, StringComparison.Ordinal))
        {
            hexLength = 64;
        }
        else if (digest.StartsWith(Sha512Prefix, StringComparison.Ordinal))
        {
            hexLength = 128;
        }
        else
        {
            return false;
        }

        ReadOnlySpan<char> hex = digest.AsSpan(Sha256Prefix.Length);
        if (hex.Length != hexLength)
        {
            return false;
        }

        foreach (char c in hex)
        {
            if (!char.IsAsciiDigit(c) && c is not (>= 'a' and <= 'f'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Creates the incremental hash matching the digest's algorithm.</summary>
    public static IncrementalHash CreateHash(string digest)
    {
        ArgumentNullException.ThrowIfNull(digest);
        return IncrementalHash.CreateHash(digest.StartsWith(Sha512Prefix, StringComparison.Ordinal) ? HashAlgorithmName.SHA512 : HashAlgorithmName.SHA256);
    }

    /// <summary>Formats a finished hash as a digest string of the same algorithm as <paramref name="expected"/>.</summary>
    public static string Format(string expected, ReadOnlySpan<byte> hash)
    {
        ArgumentNullException.ThrowIfNull(expected);
        return string.Concat(expected.AsSpan(0, Sha256Prefix.Length), Convert.ToHexStringLower(hash));
    }

    /// <summary>Compares content against a digest in its own algorithm.</summary>
    public static bool Matches(string digest, ReadOnlySpan<byte> content)
    {
        using IncrementalHash hash = CreateHash(digest);
        hash.AppendData(content);
        Span<byte> buffer = stackalloc byte[SHA512.HashSizeInBytes];
        int written = hash.GetHashAndReset(buffer);
        return Format(digest, buffer[..written]) == digest;
    }
}
