namespace Snapshotter.Rpc;

/// <summary>
/// A gRPC call failed (client side) or should fail (server side) with a non-OK status.
/// Handlers throw it to choose the status sent to the caller; <see cref="GrpcClient"/> throws it
/// when the server answered with a non-OK status.
/// </summary>
public sealed class RpcException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="code">The status code.</param>
    /// <param name="detail">The status message (sent as <c>grpc-message</c>).</param>
    public RpcException(StatusCode code, string detail)
        : base($"Status(StatusCode=\"{code}\", Detail=\"{detail}\")")
    {
        StatusCode = code;
        Detail = detail;
    }

    /// <summary>Creates the exception with an inner exception (kept for diagnostics, never sent).</summary>
    public RpcException(StatusCode code, string detail, Exception? innerException)
        : base($"Status(StatusCode=\"{code}\", Detail=\"{detail}\")", innerException)
    {
        StatusCode = code;
        Detail = detail;
    }

    /// <summary>The status code.</summary>
    public StatusCode StatusCode { get; }

    /// <summary>The status message (decoded <c>grpc-message</c>).</summary>
    public string Detail { get; }
}
