using Google.Protobuf;

namespace Snapshotter.Rpc.Server;

internal sealed class ServerStreamingServerMethod<TRequest, TResponse>(MessageParser<TRequest> parser, Func<TRequest, IServerStreamWriter<TResponse>, ServerCallContext, Task> handler) : ServerMethod
    where TRequest : IMessage<TRequest>
    where TResponse : IMessage<TResponse>
{
    public override async Task InvokeAsync(GrpcServerCall call)
    {
        TRequest request = await call.ReadSingleRequestAsync(parser).ConfigureAwait(false);
        await handler(request, new ServerStreamWriter<TResponse>(call), call.Context).ConfigureAwait(false);
    }
}
