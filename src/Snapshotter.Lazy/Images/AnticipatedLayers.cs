using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Snapshotter.Oci;
using Snapshotter.Registry;

namespace Snapshotter.Lazy.Images;

/// <summary>
/// Blob sizes asked for before containerd needs them: containerd prepares an image's layers one after another, and each
/// lazy layer's Prepare waits for a HEAD of its blob (3-13 ms each on this host, bench/RESULTS.md "P1"), so the first
/// Prepare starts the HEADs of all the layers its labels list, concurrently, and the later Prepares take the answers.
/// A failed early HEAD is forgotten: the Prepare then asks again and its own answer decides. Entries nobody takes are
/// dropped after <see cref="Lifetime"/>.
/// </summary>
internal sealed class AnticipatedLayers(RegistryClient client, ILogger logger)
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(2);

    private readonly ConcurrentDictionary<string, (Task<long?> Size, long StartedAt)> _pending = new();

    /// <summary>Starts a HEAD of each blob of <paramref name="digests"/> in <paramref name="repository"/> not already asked for.</summary>
    public void Start(ImageReference repository, IReadOnlyList<string> digests)
    {
        var now = Environment.TickCount64;
        foreach (var (key, entry) in _pending)
        {
            if (now - entry.StartedAt > Lifetime.TotalMilliseconds)
            {
                _pending.TryRemove(key, out _);
            }
        }

        foreach (var digest in digests)
        {
            var key = Key(repository, digest);
            if (!_pending.ContainsKey(key) && OciDigest.IsValid(digest))
            {
                _pending.TryAdd(key, (HeadAsync(new BlobLocator(repository, digest)), now));
            }
        }
    }

    /// <summary>The size an early HEAD found for the blob, or null when none was asked for or it failed (ask again).</summary>
    public async ValueTask<long?> TakeAsync(BlobLocator blob, CancellationToken cancellationToken = default)
    {
        if (!_pending.TryRemove(Key(blob.Repository, blob.Digest), out var entry))
        {
            return null;
        }

        return await entry.Size.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private static string Key(ImageReference repository, string digest) => repository.Registry + "/" + repository.Repository + "@" + digest;

    private async Task<long?> HeadAsync(BlobLocator blob)
    {
        try
        {
            // Not tied to the first Prepare's cancellation: the HEADs serve the Prepares after it.
            return await client.GetBlobSizeAsync(blob, CancellationToken.None).ConfigureAwait(false);
        }
        catch (RegistryException e)
        {
            Log.AnticipationFailed(logger, blob.Digest, blob.Repository.ToString(), e.Message);
            return null;
        }
    }
}
