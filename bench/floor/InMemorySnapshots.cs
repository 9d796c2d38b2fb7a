using System.Collections.Concurrent;
using Google.Protobuf.Collections;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Snapshotter.Containerd.Snapshots;
using Snapshotter.Containerd.Types;

namespace Snapshotter.FloorServer;

/// <summary>
/// containerd's snapshots API over a dictionary: enough for the foundation harness (Prepare, Commit, Stat, Remove, List
/// for containerd's GC), nothing on disk. Every mount is a read-only bind of /tmp.
/// </summary>
internal sealed class InMemorySnapshots : Snapshots.SnapshotsBase
{
    private static readonly Empty Done = new();
    private readonly ConcurrentDictionary<string, Info> _snapshots = new(StringComparer.Ordinal);

    public override Task<PrepareSnapshotResponse> Prepare(PrepareSnapshotRequest request, ServerCallContext context)
    {
        Add(NewInfo(request.Key, request.Parent, Kind.Active, request.Labels));
        return Task.FromResult(new PrepareSnapshotResponse { Mounts = { Bind() } });
    }

    public override Task<ViewSnapshotResponse> View(ViewSnapshotRequest request, ServerCallContext context)
    {
        Add(NewInfo(request.Key, request.Parent, Kind.View, request.Labels));
        return Task.FromResult(new ViewSnapshotResponse { Mounts = { Bind() } });
    }

    public override Task<MountsResponse> Mounts(MountsRequest request, ServerCallContext context)
    {
        Get(request.Key);
        return Task.FromResult(new MountsResponse { Mounts = { Bind() } });
    }

    public override Task<Empty> Commit(CommitSnapshotRequest request, ServerCallContext context)
    {
        if (!_snapshots.TryRemove(request.Key, out var active))
        {
            throw NotFound(request.Key);
        }

        Add(NewInfo(request.Name, active.Parent, Kind.Committed, request.Labels));
        return Task.FromResult(Done);
    }

    public override Task<Empty> Remove(RemoveSnapshotRequest request, ServerCallContext context) =>
        _snapshots.TryRemove(request.Key, out _) ? Task.FromResult(Done) : throw NotFound(request.Key);

    public override Task<StatSnapshotResponse> Stat(StatSnapshotRequest request, ServerCallContext context) =>
        Task.FromResult(new StatSnapshotResponse { Info = Get(request.Key) });

    public override Task<UpdateSnapshotResponse> Update(UpdateSnapshotRequest request, ServerCallContext context)
    {
        var info = Get(request.Info.Name);
        info.Labels.Clear();
        info.Labels.Add(request.Info.Labels);
        info.UpdatedAt = Timestamp.FromDateTime(DateTime.UtcNow);
        return Task.FromResult(new UpdateSnapshotResponse { Info = info });
    }

    public override async Task List(ListSnapshotsRequest request, IServerStreamWriter<ListSnapshotsResponse> responseStream, ServerCallContext context)
    {
        var batch = new ListSnapshotsResponse();
        foreach (var info in _snapshots.Values)
        {
            batch.Info.Add(info);
            if (batch.Info.Count == 100)
            {
                await responseStream.WriteAsync(batch).ConfigureAwait(false);
                batch = new ListSnapshotsResponse();
            }
        }

        if (batch.Info.Count > 0)
        {
            await responseStream.WriteAsync(batch).ConfigureAwait(false);
        }
    }

    public override Task<UsageResponse> Usage(UsageRequest request, ServerCallContext context)
    {
        Get(request.Key);
        return Task.FromResult(new UsageResponse());
    }

    public override Task<Empty> Cleanup(CleanupRequest request, ServerCallContext context) => Task.FromResult(Done);

    private static Info NewInfo(string name, string parent, Kind kind, MapField<string, string> labels)
    {
        // containerd's storage: a new snapshot's created and updated times are one instant.
        var now = Timestamp.FromDateTime(DateTime.UtcNow);
        var info = new Info { Name = name, Parent = parent, Kind = kind, CreatedAt = now, UpdatedAt = now };
        info.Labels.Add(labels);
        return info;
    }

    private static Mount Bind() => new() { Type = "bind", Source = "/tmp", Options = { "rbind", "ro" } };

    private static RpcException NotFound(string key) => new(new Status(StatusCode.NotFound, $"snapshot {key} does not exist"));

    private void Add(Info info)
    {
        if (!_snapshots.TryAdd(info.Name, info))
        {
            throw new RpcException(new Status(StatusCode.AlreadyExists, $"snapshot {info.Name} already exists"));
        }
    }

    private Info Get(string key) => _snapshots.TryGetValue(key, out var info) ? info : throw NotFound(key);
}
