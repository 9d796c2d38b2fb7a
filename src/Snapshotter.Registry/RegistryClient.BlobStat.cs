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
        return ExecuteAsync(
            blob.Repository,
            HeadBlobSpec(blob, HostCapabilities.Pull),
            blob,
            static (response, b, _) => response.Content.Headers.ContentLength is { } length and >= 0
                ? ValueTask.FromResult(length)
                : throw new RegistryException(RegistryErrorKind.InvalidResponse, $"HEAD blob {b}: the answer has no Content-Length"),
            keepResponse: false,
            cancellationToken);
    }

    /// <summary>
    /// The HEAD request of a blob (no body transferred): against a host that may pull it (size, existence check before
    /// a read) or push to it (an upload's existence check, where 404 is an answer: <paramref name="alsoAccept"/>).
    /// </summary>
    private static RequestSpec HeadBlobSpec(BlobLocator blob, HostCapabilities capability, int alsoAccept = 0) => new()
    {
        Method = HttpMethod.Head,
        Path = blob.Path,
        Scope = PullScope(blob.Repository),
        Capability = capability,
        Operation = $"HEAD blob {blob}",
        AlsoAccept = alsoAccept,
    };
}
