using Snapshotter.Cache.Fetching;
using Snapshotter.Registry;

namespace Snapshotter.Lazy.Blobs;

/// <summary>Range reads of one data blob from its registry: exact bytes or an exception (retries live in the client).</summary>
internal sealed class RegistryBlobRangeReader(IBlobReader client, BlobLocator blob) : IBlobRangeReader
{
    public async ValueTask ReadAsync(long offset, Memory<byte> destination, CancellationToken cancellationToken = default) =>
        await client.ReadAsync(blob, offset, destination, cancellationToken).ConfigureAwait(false);
}
