using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;

namespace Snapshotter.Services;

/// <summary>
/// Turns every exception a service method throws into its gRPC status through <see cref="GrpcErrorMapper"/>, the one
/// mapping of the error taxonomy. Unexpected failures (UNKNOWN) are logged here once, with the exception;
/// expected ones (not found, already exists, ...) are answers, not log lines.
/// </summary>
internal sealed class GrpcErrorInterceptor(ILogger<GrpcErrorInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request,
        ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw ToRpcException(e, context);
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
