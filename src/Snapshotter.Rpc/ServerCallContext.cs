namespace Snapshotter.Rpc;

/// <summary>Per-call information handed to a server handler.</summary>
public sealed class ServerCallContext
{
    /// <summary>Creates a context; the server does this per call, tests of handlers may do it directly.</summary>
    public ServerCallContext(string method, IReadOnlyDictionary<string, string> requestHeaders, DateTimeOffset? deadline, CancellationToken cancellationToken)
    {
        Method = method;
        RequestHeaders = requestHeaders;
        Deadline = deadline;
        CancellationToken = cancellationToken;
    }

    /// <summary>The full method path, e.g. <c>/containerd.services.snapshots.v1.Snapshots/Prepare</c>.</summary>
    public string Method { get; }

    /// <summary>Request metadata with lower-case keys (e.g. <c>containerd-namespace</c>); repeated headers are joined with ','.</summary>
    public IReadOnlyDictionary<string, string> RequestHeaders { get; }

    /// <summary>The call deadline from <c>grpc-timeout</c>, or null when the client set none.</summary>
    public DateTimeOffset? Deadline { get; }

    /// <summary>Fires when the client aborts, the deadline expires or the server shuts down.</summary>
    public CancellationToken CancellationToken { get; }
}
