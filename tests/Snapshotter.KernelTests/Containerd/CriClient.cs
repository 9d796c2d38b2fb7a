using System.Net.Sockets;
using Grpc.Core;
using Grpc.Net.Client;
using Runtime.V1;

namespace Snapshotter.KernelTests.Containerd;

/// <summary>
/// The kubelet's side of CRI, reduced to what the tests need: <c>runtime.v1</c> over containerd's unix socket
/// (Grpc.Net.Client with HTTP/2 prior knowledge, as containerd serves it).
/// </summary>
internal sealed class CriClient : IDisposable
{
    private readonly GrpcChannel _channel;

    public CriClient(string socketPath)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        _channel = GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions { HttpHandler = handler, MaxReceiveMessageSize = 16 * 1024 * 1024 });
        Images = new ImageService.ImageServiceClient(_channel);
        Runtime = new RuntimeService.RuntimeServiceClient(_channel);
    }

    public ImageService.ImageServiceClient Images { get; }

    public RuntimeService.RuntimeServiceClient Runtime { get; }

    /// <summary>Waits until containerd's CRI plugin answers <c>Version</c> (it registers while containerd starts).</summary>
    public async Task<VersionResponse> WaitReadyAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                return await Runtime.VersionAsync(new VersionRequest { Version = "v1" }, deadline: DateTime.UtcNow.AddSeconds(30));
            }
            catch (RpcException e) when (DateTime.UtcNow < deadline && e.StatusCode is StatusCode.Unavailable or StatusCode.Unimplemented or StatusCode.DeadlineExceeded)
            {
                await Task.Delay(500);
            }
        }
    }

    /// <summary><c>PullImage</c>, as the kubelet sends it; returns the image id containerd answers.</summary>
    public async Task<string> PullAsync(string image, TimeSpan timeout) =>
        (await Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = image } }, deadline: DateTime.UtcNow + timeout)).ImageRef;

    public async Task RemoveAsync(string image, TimeSpan timeout) =>
        await Images.RemoveImageAsync(new RemoveImageRequest { Image = new ImageSpec { Image = image } }, deadline: DateTime.UtcNow + timeout);

    public void Dispose() => _channel.Dispose();
}
