namespace Snapshotter.Core;

/// <summary>
/// The error taxonomy shared by every layer. The gRPC edge maps each kind to one status code
/// (in one place); nothing below the host knows about gRPC.
/// </summary>
public enum ErrorKind
{
    /// <summary>An unexpected failure (gRPC UNKNOWN).</summary>
    Unknown = 0,

    /// <summary>The request is malformed (gRPC INVALID_ARGUMENT).</summary>
    InvalidArgument,

    /// <summary>The snapshot or object does not exist (gRPC NOT_FOUND).</summary>
    NotFound,

    /// <summary>The snapshot or object already exists (gRPC ALREADY_EXISTS).</summary>
    AlreadyExists,

    /// <summary>The system is not in a state the operation requires (gRPC FAILED_PRECONDITION).</summary>
    FailedPrecondition,

    /// <summary>A dependency (disk, registry, kernel) is temporarily unavailable (gRPC UNAVAILABLE).</summary>
    Unavailable,

    /// <summary>The operation is not supported (gRPC UNIMPLEMENTED).</summary>
    NotImplemented,

    /// <summary>The caller cancelled (gRPC CANCELLED).</summary>
    Canceled,

    /// <summary>The caller's deadline passed (gRPC DEADLINE_EXCEEDED).</summary>
    DeadlineExceeded,
}
