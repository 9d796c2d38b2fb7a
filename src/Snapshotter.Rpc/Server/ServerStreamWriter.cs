using Google.Protobuf;

namespace Snapshotter.Rpc.Server;

internal sealed class ServerStreamWriter<T>(GrpcServerCall call) : IServerStreamWriter<T>
    where T : IMessage<T>
{
    public ValueTask WriteAsync(T message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        return call.WriteMessageAsync(message, cancellationToken);
    }
}
