using Snapshotter.Registry.Hosts;
using Snapshotter.Registry.Http;

namespace Snapshotter.Registry;

public sealed partial class RegistryClient
{
    /// <summary>
    /// Asks the registry for the size of <paramref name="blob"/> with a HEAD request (no body is transferred): proves the
    /// blob exists and that our credentials may read it. Redirects are followed like GETs.
    /// </summary>
    /// <exception cref="RegistryException"><see cref="RegistryErrorKind.NotFound"/> for an unknown blob, or any transport/auth failure.</exception>
    public Task<long> GetBlobSizeAsync(BlobLocator blob, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(blob);
        var spec = new RequestSpec
        {
            Method = HttpMethod.Head,
            Path = blob.Path,
            Scope = PullScope(blob.Repository),
            Capability = HostCapabilities.Pull,
            Operation = $"HEAD blob {blob}",
        };

        return ExecuteAsync(
            blob.Repository,
            spec,
            blob,
            static (response, b, _) => response.Content.Headers.ContentLength is { } length and >= 0
                ? ValueTask.FromResult(length)
                : throw new RegistryException(RegistryErrorKind.InvalidResponse, $"HEAD blob {b}: the answer has no Content-Length"),
            keepResponse: false,
            cancellationToken);
    }
}
