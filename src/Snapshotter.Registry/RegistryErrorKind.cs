namespace Snapshotter.Registry;

/// <summary>What went wrong talking to a registry. Callers map these onto their own error taxonomy.</summary>
public enum RegistryErrorKind
{
    /// <summary>The image reference, digest or platform string is malformed.</summary>
    InvalidReference,

    /// <summary>The repository, manifest, blob or platform does not exist (404, <c>*_UNKNOWN</c>).</summary>
    NotFound,

    /// <summary>Authentication failed or is required and no usable credentials exist (401).</summary>
    Unauthorized,

    /// <summary>The credentials are valid but not allowed to do this (403, <c>DENIED</c>).</summary>
    Denied,

    /// <summary>The registry rate-limited us (429, <c>TOOMANYREQUESTS</c>) and retries ran out.</summary>
    TooManyRequests,

    /// <summary>The registry could not be reached or kept failing (connection errors, 5xx, truncated bodies).</summary>
    Unavailable,

    /// <summary>The registry answered something that breaks the protocol (bad status, bad <c>Content-Range</c>, bad JSON).</summary>
    InvalidResponse,

    /// <summary>Content did not hash to the digest it was requested by.</summary>
    DigestMismatch,

    /// <summary>The requested byte range lies outside the blob (416).</summary>
    RangeNotSatisfiable,

    /// <summary>The per-attempt or overall timeout elapsed.</summary>
    Timeout,

    /// <summary>The registry refused a request it understood (other 4xx, e.g. <c>MANIFEST_INVALID</c> on push).</summary>
    Rejected,
}
