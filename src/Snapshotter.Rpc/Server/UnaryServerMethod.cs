using Google.Protobuf;

namespace Snapshotter.Rpc.Server;

internal sealed class UnaryServerMethod<TRequest, TResponse>(MessageParser<TRequest> parser, Func<TRequest, ServerCallContext, Task<TResponse>> handler) : ServerMethod
    where TRequest : IMessage<TRequest>
    where TResponse : IMessage<TResponse>
{
    public override async Task InvokeAsync(GrpcServerCall call)
    {
        TRequest request = await call.ReadSingleRequestAsync(parser).ConfigureAwait(false);
        TResponse response = await handler(request, call.Context).ConfigureAwait(false);
        if (response is null)
        {
            throw new RpcException(StatusCode.Internal, "handler returned no response message");
        }

        await call.WriteMessageAsync(response, CancellationToken.None).ConfigureAwait(false);
    }
}
