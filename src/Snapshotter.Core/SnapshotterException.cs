namespace Snapshotter.Core;

/// <summary>
/// The one exception type for expected failures. <see cref="Kind"/> decides the gRPC status code;
/// the message is user-facing (it reaches <c>ctr</c>), so it names the problem and never holds secrets.
/// </summary>
public sealed class SnapshotterException(ErrorKind kind, string message, Exception? innerException = null)
    : Exception(message, innerException)
{
    /// <summary>The error category, mapped to a gRPC status code at the edge.</summary>
    public ErrorKind Kind { get; } = kind;

    public static SnapshotterException NotFound(string message) => new(ErrorKind.NotFound, message);

    public static SnapshotterException AlreadyExists(string message) => new(ErrorKind.AlreadyExists, message);

    public static SnapshotterException FailedPrecondition(string message) => new(ErrorKind.FailedPrecondition, message);

    public static SnapshotterException InvalidArgument(string message) => new(ErrorKind.InvalidArgument, message);

    public static SnapshotterException Unavailable(string message, Exception? inner = null) => new(ErrorKind.Unavailable, message, inner);

    /// <summary>Returns a copy of this error with <paramref name="context"/> prefixed, keeping the kind.</summary>
    public SnapshotterException WithContext(string context) => new(Kind, $"{context}: {Message}", this);
}
