namespace Snapshotter.Rpc;

/// <summary>Options of the gRPC server endpoint.</summary>
public sealed class GrpcServerOptions
{
    /// <summary>Largest request message accepted, in bytes; larger ones fail with RESOURCE_EXHAUSTED. Defaults to 16 MiB.</summary>
    public int MaxReceiveMessageSize { get; set; } = 16 * 1024 * 1024;

    /// <summary>Largest response message sent, in bytes; larger ones fail the call with RESOURCE_EXHAUSTED. Defaults to 16 MiB.</summary>
    public int MaxSendMessageSize { get; set; } = 16 * 1024 * 1024;

    /// <summary>
    /// Maps exceptions other than <see cref="RpcException"/> thrown by handlers to a status, so the host maps its
    /// error taxonomy in one place. Defaults to null: UNKNOWN with the exception message.
    /// An <see cref="OperationCanceledException"/> thrown after the call's token fired becomes CANCELLED
    /// (DEADLINE_EXCEEDED when the deadline expired, UNAVAILABLE when the server is shutting down and
    /// <see cref="CancelCallsOnShutdown"/> is set) without calling the mapper.
    /// Mapped statuses other than UNKNOWN/INTERNAL/DATA_LOSS are logged at Debug, those at Error with the exception.
    /// </summary>
    public Func<Exception, (StatusCode Code, string Message)>? ExceptionMapper { get; set; }

    /// <summary>
    /// When true, the host stopping cancels every call in flight at once (UNAVAILABLE). Defaults to false: calls in
    /// flight run to completion while the host drains (bounded by its shutdown timeout, after which Kestrel aborts them).
    /// </summary>
    public bool CancelCallsOnShutdown { get; set; }
}
