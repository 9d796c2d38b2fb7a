namespace Snapshotter.Benchmarks.Grpc;

/// <summary>A gRPC call that ended with a non-OK status.</summary>
internal sealed class UnaryStatusException(string method, int status, string message)
    : Exception($"{method} failed with gRPC status {status}: {message}")
{
    public int Status { get; } = status;

    public const int NotFound = 5;
}
