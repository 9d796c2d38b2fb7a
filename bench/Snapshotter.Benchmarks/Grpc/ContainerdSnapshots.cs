using Google.Protobuf.WellKnownTypes;
using Snapshotter.Rpc.Containerd.Snapshots;

namespace Snapshotter.Benchmarks.Grpc;

/// <summary>containerd's own snapshots service (on containerd's socket) for one snapshotter name.</summary>
internal sealed class ContainerdSnapshots(H2cUnaryClient client, string snapshotter)
{
    private const string Service = "/containerd.services.snapshots.v1.Snapshots/";

    public string Snapshotter { get; } = snapshotter;

    public async Task PrepareAsync(string key, string parent, IDictionary<string, string> labels, CancellationToken cancellationToken = default)
    {
        var request = new PrepareSnapshotRequest { Snapshotter = Snapshotter, Key = key, Parent = parent };
        request.Labels.Add(labels);
        await client.CallAsync(Service + "Prepare", request, PrepareSnapshotResponse.Parser, cancellationToken).ConfigureAwait(false);
    }

    public async Task CommitAsync(string name, string key, IDictionary<string, string> labels, CancellationToken cancellationToken = default)
    {
        var request = new CommitSnapshotRequest { Snapshotter = Snapshotter, Name = name, Key = key };
        request.Labels.Add(labels);
        await client.CallAsync(Service + "Commit", request, Empty.Parser, cancellationToken).ConfigureAwait(false);
    }

    public async Task RemoveAsync(string key, CancellationToken cancellationToken = default) =>
        await client.CallAsync(Service + "Remove", new RemoveSnapshotRequest { Snapshotter = Snapshotter, Key = key }, Empty.Parser, cancellationToken).ConfigureAwait(false);

    /// <summary>Remove that, like containerd's unpacker cleanup, treats NOT_FOUND as done.</summary>
    public async Task RemoveIfExistsAsync(string key, CancellationToken cancellationToken = default)
    {
        try
        {
            await RemoveAsync(key, cancellationToken).ConfigureAwait(false);
        }
        catch (UnaryStatusException e) when (e.Status == UnaryStatusException.NotFound)
        {
        }
    }

    public async Task<Info> StatAsync(string key, CancellationToken cancellationToken = default) =>
        (await client.CallAsync(Service + "Stat", new StatSnapshotRequest { Snapshotter = Snapshotter, Key = key }, StatSnapshotResponse.Parser, cancellationToken).ConfigureAwait(false)).Info;
}
