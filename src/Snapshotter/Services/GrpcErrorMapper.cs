using Grpc.Core;

namespace Snapshotter.Services;

/// <summary>
/// The one place where the error taxonomy becomes gRPC status codes (like containerd's errgrpc.ToGRPC),
/// so that containerd's errdefs.FromGRPC on the other side recovers the same error class.
/// </summary>
internal static class GrpcErrorMapper
{
    /// <summary>Maps an error kind to its gRPC status code.</summary>
    public static StatusCode ToStatusCode(ErrorKind kind) => kind switch
    {
        ErrorKind.InvalidArgument => StatusCode.InvalidArgument,
        ErrorKind.NotFound => StatusCode.NotFound,
        ErrorKind.AlreadyExists => StatusCode.AlreadyExists,
        ErrorKind.FailedPrecondition => StatusCode.FailedPrecondition,
        ErrorKind.Unavailable => StatusCode.Unavailable,
        ErrorKind.NotImplemented => StatusCode.Unimplemented,
        ErrorKind.Canceled => StatusCode.Cancelled,
        ErrorKind.DeadlineExceeded => StatusCode.DeadlineExceeded,
        _ => StatusCode.Unknown,
    };

    /// <summary>Maps any exception a handler throws to a status and a user-facing message.</summary>
    public static (StatusCode Code, string Message) Map(Exception exception) => exception switch
    {
        SnapshotterException e => (ToStatusCode(e.Kind), e.Message),
        OperationCanceledException => (StatusCode.Cancelled, "operation cancelled"),
        // Disk full, permission problems and the like: the daemon keeps running, the caller learns why.
        IOException or UnauthorizedAccessException => (StatusCode.Unavailable, exception.Message),
        _ => (StatusCode.Unknown, exception.Message),
    };
}
