using Snapshotter.Oci;

namespace Snapshotter.Registry;

/// <summary>
/// The one exception type of this library. The message names the operation, the registry host and the
/// registry's error code; it never contains credentials, tokens or <c>Authorization</c> values.
/// </summary>
public sealed class RegistryException(RegistryErrorKind kind, string message, Exception? innerException = null)
    : Exception(message, innerException)
{
    /// <summary>The error category.</summary>
    public RegistryErrorKind Kind { get; } = kind;

    /// <summary>The HTTP status code of the failing answer, when there was one.</summary>
    public int? StatusCode { get; init; }

    /// <summary>The first registry error code of the answer (e.g. <c>MANIFEST_UNKNOWN</c>), when there was one.</summary>
    public string? ErrorCode { get; init; }

    /// <summary>How long the registry asked us to wait (<c>Retry-After</c>), when it said.</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>Throws <see cref="RegistryErrorKind.InvalidReference"/> unless <paramref name="digest"/> is a valid digest.</summary>
    internal static void ThrowIfInvalidDigest(string digest)
    {
        if (!OciDigest.IsValid(digest))
        {
            throw new RegistryException(RegistryErrorKind.InvalidReference, $"invalid digest \"{digest}\": expected sha256:<64 hex> or sha512:<128 hex>");
        }
    }

    /// <summary>True when trying again (same host, after a backoff) may succeed.</summary>
    public bool IsTransient => Kind is RegistryErrorKind.Unavailable or RegistryErrorKind.TooManyRequests or RegistryErrorKind.Timeout;
}
