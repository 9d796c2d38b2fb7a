using Grpc.Core;
using Snapshotter.Containerd.Snapshots;

namespace Snapshotter.Benchmarks.Grpc;

/// <summary>
/// A snapshots service (containerd's own on containerd's socket, for one snapshotter name; or ours directly),
/// through the generated Grpc.Net.Client client.
/// </summary>
internal sealed class ContainerdSnapshots(Snapshots.SnapshotsClient client, string @namespace, string snapshotter)
{
    private readonly Metadata _headers = new() { { "containerd-namespace", @namespace } };

    public string Snapshotter { get; } = snapshotter;

    private CallOptions Options(CancellationToken cancellationToken) => new(_headers, cancellationToken: cancellationToken);

    public async Task PrepareAsync(string key, string parent, IDictionary<string, string> labels, CancellationToken cancellationToken = default)
    {
        var request = new PrepareSnapshotRequest { Snapshotter = Snapshotter, Key = key, Parent = parent };
        request.Labels.Add(labels);
        await client.PrepareAsync(request, Options(cancellationToken)).ResponseAsync.ConfigureAwait(false);
    }

    public async Task CommitAsync(string name, string key, IDictionary<string, string> labels, CancellationToken cancellationToken = default)
    {
        var request = new CommitSnapshotRequest { Snapshotter = Snapshotter, Name = name, Key = key };
        request.Labels.Add(labels);
        await client.CommitAsync(request, Options(cancellationToken)).ResponseAsync.ConfigureAwait(false);
    }

    public async Task RemoveAsync(string key, CancellationToken cancellationToken = default) =>
        await client.RemoveAsync(new RemoveSnapshotRequest { Snapshotter = Snapshotter, Key = key }, Options(cancellationToken)).ResponseAsync.ConfigureAwait(false);

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
        using var call = client.List(new ListSnapshotsRequest { Snapshotter = Snapshotter }, Options(cancellationToken));
        await foreach (var batch in call.ResponseStream.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            result.AddRange(batch.Info);
        }

        return result;
    }

    public async Task<Info> StatAsync(string key, CancellationToken cancellationToken = default) =>
        (await client.StatAsync(new StatSnapshotRequest { Snapshotter = Snapshotter, Key = key }, Options(cancellationToken)).ResponseAsync.ConfigureAwait(false)).Info;
}
