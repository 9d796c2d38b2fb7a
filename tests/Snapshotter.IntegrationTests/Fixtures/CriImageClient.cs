using Grpc.Core;
using Grpc.Net.Client;
using Snapshotter.IntegrationTests.Cri;
using Snapshotter.Tests.Hosting;

namespace Snapshotter.IntegrationTests.Fixtures;

/// <summary>
/// Speaks CRI's image service (<c>runtime.v1.ImageService</c>, what kubelet sends) to containerd's CRI plugin over
/// containerd's own unix socket, with Grpc.Net.Client. CRI keeps images in the <c>k8s.io</c> namespace.
/// </summary>
internal sealed class CriImageClient : IDisposable
{
    private static readonly TimeSpan PullTimeout = TimeSpan.FromMinutes(3);
    private readonly GrpcChannel _channel;
    private readonly ImageService.ImageServiceClient _client;

    public CriImageClient(string containerdSocket)
    {
        _channel = UnixSocketChannel.Create(containerdSocket);
        _client = new ImageService.ImageServiceClient(_channel);
    }

    /// <summary><c>PullImage</c>; returns the image ref containerd answers (the image id). Errors surface as <see cref="RpcException"/>.</summary>
    public async Task<string> PullAsync(string image)
    {
        var response = await _client.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = image } }, deadline: DateTime.UtcNow + PullTimeout).ConfigureAwait(false);
        return response.ImageRef;
    }

    /// <summary><c>RemoveImage</c> (idempotent).</summary>
    public async Task RemoveAsync(string image) =>
        await _client.RemoveImageAsync(new RemoveImageRequest { Image = new ImageSpec { Image = image } }, deadline: DateTime.UtcNow + PullTimeout).ConfigureAwait(false);

    /// <summary><c>ImageStatus</c>: the image, or null when containerd does not have it.</summary>
    public async Task<Image?> StatusAsync(string image)
    {
        var response = await _client.ImageStatusAsync(new ImageStatusRequest { Image = new ImageSpec { Image = image } }, deadline: DateTime.UtcNow + PullTimeout).ConfigureAwait(false);
        return response.Image;
    }

    /// <summary><c>ListImages</c> without a filter.</summary>
    public async Task<IReadOnlyList<Image>> ListAsync()
    {
        var response = await _client.ListImagesAsync(new ListImagesRequest(), deadline: DateTime.UtcNow + PullTimeout).ConfigureAwait(false);
        return response.Images;
    }

    public void Dispose() => _channel.Dispose();
}
