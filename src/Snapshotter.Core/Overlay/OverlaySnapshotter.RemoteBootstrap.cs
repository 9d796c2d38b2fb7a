using Snapshotter.Core.Interop;
using Snapshotter.Core.Remote;
using Snapshotter.Core.Snapshots;

namespace Snapshotter.Core.Overlay;

/// <summary>
/// The bootstrap layer of a lazy image, fetched by the snapshotter: containerd's unpacker prepares it like every
/// other layer, and instead of letting containerd download the layer into its content store, apply the tar and commit
/// it (about 50 ms of a pull on this host, bench/RESULTS.md "P1"), its Prepare downloads the bootstrap, checks it against
/// the data blobs below it and commits the target itself, as the data blobs' Prepares do. Whatever goes wrong, the
/// Prepare answers as for an ordinary layer and containerd unpacks it, whose Commit checks the bootstrap as before.
/// </summary>
internal sealed partial class OverlaySnapshotter
{
    private const string IncomingDirectory = "incoming";

    /// <summary>Tells the remote file system which layers containerd will prepare next (the labels' layer list).</summary>
    private void AnticipateLayers(IReadOnlyDictionary<string, string> labels)
    {
        if (_remote is not null && RemoteLabels.ImageRef(labels) is { } imageRef && RemoteLabels.Layers(labels) is { Count: > 1 } layers)
        {
            _remote.AnticipateLayers(imageRef, layers);
        }
    }

    /// <summary>
    /// Commits the bootstrap layer of <paramref name="labels"/> with a bootstrap the snapshotter fetched. Returns the
    /// target name when it is (now) committed, or null when containerd must unpack the layer (logged).
    /// </summary>
    private async ValueTask<string?> TryCommitRemoteBootstrapAsync(string key, string parent, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken)
    {
        if (_remote is null || RemoteLabels.Target(labels) is not { } target || parent.Length == 0)
        {
            return null;
        }

        if (RemoteLabels.ImageRef(labels) is not { } imageRef || RemoteLabels.LayerDigest(labels) is not { } digest)
        {
            return DeclineBootstrap(target, "no image reference or layer digest label");
        }

        ValidateName(key, "key");
        SnapshotLabels.Validate(labels);
        var (existing, layers) = await _store.ReadAsync(tx =>
        {
            var found = tx.Find(target);
            var p = tx.Find(parent);
            return (found, p is { Kind: SnapshotKind.Committed } ? RemoteLayersBelow(tx, p.Id) : []);
        }, cancellationToken).ConfigureAwait(false);
        if (existing is not null)
        {
            return IsSameTarget(existing, parent) ? target : DeclineBootstrap(target, $"a snapshot of that name exists on parent '{existing.Parent}'");
        }

        if (layers.Count == 0)
        {
            // Its data layers were unpacked the ordinary way (or the parent is not committed): an ordinary image.
            return DeclineBootstrap(target, "no remotely committed data blob below it");
        }

        var incoming = Path.Combine(Root, IncomingDirectory);
        Directory.CreateDirectory(incoming);
        var file = Path.Combine(incoming, Guid.NewGuid().ToString("N") + ".boot");
        try
        {
            await _remote.FetchBootstrapAsync(imageRef, digest, file, cancellationToken).ConfigureAwait(false);
            await _remote.ValidateAsync(new RemoteImage(imageRef, file, layers), cancellationToken).ConfigureAwait(false);
            return await CommitBootstrapAsync(target, parent, labels, new RemoteLayerRecord(0, RemoteLayerKind.Bootstrap, imageRef, digest, 0), file, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (Exception e) when (e is SnapshotterException or IOException or UnauthorizedAccessException && !cancellationToken.IsCancellationRequested)
        {
            // containerd's own unpack is the fallback: a pull that could go the ordinary way must not fail here.
            return DeclineBootstrap(target, e.Message);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private async ValueTask<string?> CommitBootstrapAsync(
        string target, string parent, IReadOnlyDictionary<string, string> labels, RemoteLayerRecord row, string file, CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        var (outcome, id, size) = await _store.WriteAsync(tx =>
        {
            var (outcome, newId) = InsertRemoteLayer(tx, target, parent, labels, row, now);
            if (outcome != RemoteCommitOutcome.Committed)
            {
                return (outcome, newId, 0L);
            }

            // What containerd's own unpack would leave: image/image.boot in the layer, its usage counted.
            var destination = Path.Combine(FsPath(newId), RemoteLabels.BootstrapPath);
            Syscalls.Mkdir(Path.GetDirectoryName(destination)!, Mode0755);
            File.Move(file, destination);
            File.SetUnixFileMode(destination, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            var usage = DiskUsage.Compute(FsPath(newId), cancellationToken);
            tx.Commit(newId, target, labels, usage, now);
            return (outcome, newId, usage.Size);
        }, cancellationToken).ConfigureAwait(false);

        switch (outcome)
        {
            case RemoteCommitOutcome.Committed:
                Log.RemoteBootstrapCommitted(_logger, target, id, row.Digest, row.ImageRef, size);
                return target;
            case RemoteCommitOutcome.Exists:
                return target;
            case RemoteCommitOutcome.Conflict:
                return DeclineBootstrap(target, "a snapshot of that name exists on another parent");
            default:
                return DeclineBootstrap(target, $"parent {parent} is not a committed snapshot");
        }
    }

    private string? DeclineBootstrap(string target, string why)
    {
        Log.RemoteBootstrapDeclined(_logger, target, why);
        return null;
    }

    /// <summary>Deletes bootstrap downloads a crash interrupted (called at open, before any Prepare).</summary>
    private void DeleteIncomingBootstraps()
    {
        var incoming = Path.Combine(Root, IncomingDirectory);
        if (Directory.Exists(incoming))
        {
            foreach (var file in Directory.EnumerateFiles(incoming))
            {
                File.Delete(file);
            }
        }
    }
}
