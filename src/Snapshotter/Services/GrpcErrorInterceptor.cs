using System.Diagnostics;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;

namespace Snapshotter.Services;

/// <summary>
/// Turns every exception a service method throws into its gRPC status through <see cref="GrpcErrorMapper"/>, the one
/// mapping of the error taxonomy. Unexpected failures (UNKNOWN) are logged here once, with the exception;
/// expected ones (not found, already exists, ...) are answers, not log lines. At debug level every call is logged with
/// its duration when answered (a timeline of what containerd asked and how long it waited).
/// </summary>
internal sealed class GrpcErrorInterceptor(ILogger<GrpcErrorInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request,
        ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var started = Stopwatch.GetTimestamp();
        var code = StatusCode.OK;
        try
        {
            return await continuation(request, context).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not RpcException)
        {
            var rpc = ToRpcException(e, context);
            code = rpc.StatusCode;
            throw rpc;
        }
        catch (RpcException e)
        {
            code = e.StatusCode;
            throw;
        }
        finally
        {
            Log.CallAnswered(logger, context.Method, code, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request,
        IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw ToRpcException(e, context);
        }
    }

    private RpcException ToRpcException(Exception exception, ServerCallContext context)
    {
        var (code, message) = GrpcErrorMapper.Map(exception);
        if (code == StatusCode.Unknown)
        {
            Log.UnexpectedFailure(logger, context.Method, exception);
        }

        return new RpcException(new Status(code, message));
    }
}
