using Google.Protobuf.WellKnownTypes;
using Snapshotter.Rpc;
using Snapshotter.Rpc.Containerd.Snapshots;

namespace Snapshotter.Benchmarks.Grpc;

/// <summary>
/// containerd's own snapshots service (on containerd's socket, not the snapshotter's) for one
/// snapshotter name, through the project's <see cref="GrpcClient"/>.
/// </summary>
internal sealed class ContainerdSnapshots(GrpcClient client, string @namespace, string snapshotter)
{
    private const string Service = "/containerd.services.snapshots.v1.Snapshots/";
    private readonly Dictionary<string, string> _headers = new() { ["containerd-namespace"] = @namespace };

    public string Snapshotter { get; } = snapshotter;

    public async Task PrepareAsync(string key, string parent, IDictionary<string, string> labels, CancellationToken cancellationToken = default)
    {
        var request = new PrepareSnapshotRequest { Snapshotter = Snapshotter, Key = key, Parent = parent };
        request.Labels.Add(labels);
        await client.UnaryAsync(Service + "Prepare", request, PrepareSnapshotResponse.Parser, _headers, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    public async Task CommitAsync(string name, string key, IDictionary<string, string> labels, CancellationToken cancellationToken = default)
    {
        var request = new CommitSnapshotRequest { Snapshotter = Snapshotter, Name = name, Key = key };
        request.Labels.Add(labels);
        await client.UnaryAsync(Service + "Commit", request, Empty.Parser, _headers, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    public async Task RemoveAsync(string key, CancellationToken cancellationToken = default) =>
        await client.UnaryAsync(Service + "Remove", new RemoveSnapshotRequest { Snapshotter = Snapshotter, Key = key }, Empty.Parser, _headers, cancellationToken: cancellationToken).ConfigureAwait(false);

    /// <summary>Remove that, like containerd's unpacker cleanup, treats NOT_FOUND as done.</summary>
    public async Task RemoveIfExistsAsync(string key, CancellationToken cancellationToken = default)
    {
        try
        {
            await RemoveAsync(key, cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
        }
    }

    /// <summary>Every snapshot the service lists (List is server-streaming).</summary>
    public async Task<List<Info>> ListAsync(CancellationToken cancellationToken = default)
    {
        var result = new List<Info>();
        await foreach (var batch in client.ServerStreamingAsync(Service + "List", new ListSnapshotsRequest { Snapshotter = Snapshotter }, ListSnapshotsResponse.Parser, _headers, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            result.AddRange(batch.Info);
        }

        return result;
    }

    public async Task<Info> StatAsync(string key, CancellationToken cancellationToken = default) =>
        (await client.UnaryAsync(Service + "Stat", new StatSnapshotRequest { Snapshotter = Snapshotter, Key = key }, StatSnapshotResponse.Parser, _headers, cancellationToken: cancellationToken).ConfigureAwait(false)).Info;
}
