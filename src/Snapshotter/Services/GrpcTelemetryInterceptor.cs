using System.Diagnostics;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Snapshotter.Services;

/// <summary>
/// The outermost interceptor: one span and one measurement per snapshot call, named as containerd calls the RPC
/// (<c>Prepare</c>, <c>Stat</c>, ...), with the result the caller saw (<c>ok</c> or the gRPC status in snake case).
/// </summary>
internal sealed class GrpcTelemetryInterceptor(SnapshotterMetrics metrics) : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request,
        ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation) =>
        ObserveAsync(context, () => continuation(request, context));

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request,
        IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation) =>
        await ObserveAsync(context, async () =>
        {
            await continuation(request, responseStream, context).ConfigureAwait(false);
            return true;
        }).ConfigureAwait(false);

    /// <summary>Runs one call inside its span and records its duration with the result the caller saw.</summary>
    private async Task<T> ObserveAsync<T>(ServerCallContext context, Func<Task<T>> call)
    {
        var operation = OperationOf(context.Method);
        using var activity = SnapshotterActivities.Source.StartActivity("snapshots." + operation, ActivityKind.Server);
        var started = Stopwatch.GetTimestamp();
        var result = "ok";
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            result = StatusNames.Of(e.StatusCode);
            activity?.SetStatus(ActivityStatusCode.Error, e.Status.Detail);
            throw;
        }
        finally
        {
            metrics.RecordOperation(operation, result, Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> Operations = new(StringComparer.Ordinal);

    /// <summary>"/containerd.services.snapshots.v1.Snapshots/Prepare" -> "Prepare", computed once per method (no allocation per call).</summary>
    private static string OperationOf(string method) => Operations.GetOrAdd(method, static m => m[(m.LastIndexOf('/') + 1)..]);
}
