using System.Net.Sockets;
using Grpc.Net.Client;

namespace Snapshotter.Tests.Hosting;

/// <summary>A Grpc.Net.Client channel to a gRPC server on a unix socket (h2c with prior knowledge, as containerd dials).</summary>
internal static class UnixSocketChannel
{
    /// <summary>Receive limit of the channel: containerd's 16 MiB.</summary>
    public const int MaxReceiveMessageSize = 16 * 1024 * 1024;

    /// <summary>A channel whose every connection dials <paramref name="socketPath"/>; sends are not limited.</summary>
    public static GrpcChannel Create(string socketPath)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxReceiveMessageSize = MaxReceiveMessageSize,
            MaxSendMessageSize = null,
        });
    }
}
