using System.Security.Cryptography;

namespace Snapshotter.Registry;

/// <summary>OCI content digests (<c>algorithm:hex</c>); <c>sha256</c> and <c>sha512</c> are supported.</summary>
public static class OciDigest
{
    /// <summary>Returns the <c>sha256:</c> digest of <paramref name="content"/>.</summary>
    public static string Compute(ReadOnlySpan<byte> content)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(content, hash);
        return "sha256:" + Convert.ToHexStringLower(hash);
    }

    /// <summary>True when <paramref name="digest"/> is a well-formed sha256 or sha512 digest (lowercase hex).</summary>
    public static bool IsValid(string? digest)
    {
        if (digest is null)
        {
            return false;
        }

        int hexLength;
        if (digest.StartsWith("sha256:", StringComparison.Ordinal))
        {
            hexLength = 64;
        }
        else if (digest.StartsWith("sha512:", StringComparison.Ordinal))
        {
            hexLength = 128;
        }
        else
        {
            return false;
        }

        ReadOnlySpan<char> hex = digest.AsSpan(7);
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

    /// <summary>Throws <see cref="RegistryException"/> (<see cref="RegistryErrorKind.InvalidReference"/>) unless the digest is valid.</summary>
    public static void Validate(string digest)
    {
        if (!IsValid(digest))
        {
            throw new RegistryException(RegistryErrorKind.InvalidReference, $"invalid digest \"{digest}\": expected sha256:<64 hex> or sha512:<128 hex>");
        }
    }

    /// <summary>Creates the incremental hash matching the digest's algorithm.</summary>
    internal static IncrementalHash CreateHash(string digest) =>
        IncrementalHash.CreateHash(digest.StartsWith("sha512:", StringComparison.Ordinal) ? HashAlgorithmName.SHA512 : HashAlgorithmName.SHA256);

    /// <summary>Formats a finished hash as a digest string of the same algorithm as <paramref name="expected"/>.</summary>
    internal static string Format(string expected, ReadOnlySpan<byte> hash) =>
        expected.AsSpan(0, 7).ToString() + Convert.ToHexStringLower(hash);

    /// <summary>Compares content against a digest in its own algorithm.</summary>
    internal static bool Matches(string digest, ReadOnlySpan<byte> content)
    {
        using IncrementalHash hash = CreateHash(digest);
        hash.AppendData(content);
        Span<byte> buffer = stackalloc byte[64];
        int written = hash.GetHashAndReset(buffer);
        return Format(digest, buffer[..written]) == digest;
    }
}
