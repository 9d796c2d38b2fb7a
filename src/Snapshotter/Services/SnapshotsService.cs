using Google.Protobuf.Collections;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Snapshotter.Core.Snapshots;
using Proto = Snapshotter.Containerd.Snapshots;
using ProtoMount = Snapshotter.Containerd.Types.Mount;

namespace Snapshotter.Services;

/// <summary>
/// containerd's <c>containerd.services.snapshots.v1.Snapshots</c> service: a thin adapter that validates
/// requests, translates them to <see cref="ISnapshotter"/> and translates results back. No snapshot logic here;
/// exceptions become status codes in <see cref="GrpcErrorInterceptor"/>.
/// </summary>
internal sealed class SnapshotsService(ISnapshotter snapshotter) : Proto.Snapshots.SnapshotsBase
{
    /// <summary>containerd itself sends List results in batches of up to 100 infos.</summary>
    private const int ListBatchSize = 100;

    public override async Task<Proto.PrepareSnapshotResponse> Prepare(Proto.PrepareSnapshotRequest request, ServerCallContext context)
    {
        RequireKey(request.Key, "key");
        var mounts = await snapshotter.PrepareAsync(request.Key, request.Parent, ToDictionary(request.Labels), context.CancellationToken);
        return new Proto.PrepareSnapshotResponse { Mounts = { mounts.Select(ToProto) } };
    }

    public override async Task<Proto.ViewSnapshotResponse> View(Proto.ViewSnapshotRequest request, ServerCallContext context)
    {
        RequireKey(request.Key, "key");
        var mounts = await snapshotter.ViewAsync(request.Key, request.Parent, ToDictionary(request.Labels), context.CancellationToken);
        return new Proto.ViewSnapshotResponse { Mounts = { mounts.Select(ToProto) } };
    }

    public override async Task<Proto.MountsResponse> Mounts(Proto.MountsRequest request, ServerCallContext context)
    {
        RequireKey(request.Key, "key");
        var mounts = await snapshotter.MountsAsync(request.Key, context.CancellationToken);
        return new Proto.MountsResponse { Mounts = { mounts.Select(ToProto) } };
    }

    public override async Task<Empty> Commit(Proto.CommitSnapshotRequest request, ServerCallContext context)
    {
        RequireKey(request.Name, "name");
        RequireKey(request.Key, "key");
        if (request.Parent.Length > 0)
        {
            // containerd 2.2 rebase: only accepted when it names the parent the snapshot already has.
            var active = await snapshotter.StatAsync(request.Key, context.CancellationToken);
            if (active.Parent != request.Parent)
            {
                throw new SnapshotterException(
                    ErrorKind.NotImplemented,
                    $"commit of {request.Key} with a different parent ({request.Parent}, snapshot has '{active.Parent}') is not supported");
            }
        }

        await snapshotter.CommitAsync(request.Name, request.Key, ToDictionary(request.Labels), context.CancellationToken);
        return new Empty();
    }

    public override async Task<Empty> Remove(Proto.RemoveSnapshotRequest request, ServerCallContext context)
    {
        RequireKey(request.Key, "key");
        await snapshotter.RemoveAsync(request.Key, context.CancellationToken);
        return new Empty();
    }

    public override async Task<Proto.StatSnapshotResponse> Stat(Proto.StatSnapshotRequest request, ServerCallContext context)
    {
        RequireKey(request.Key, "key");
        var info = await snapshotter.StatAsync(request.Key, context.CancellationToken);
        return new Proto.StatSnapshotResponse { Info = ToProto(info) };
    }

    public override async Task<Proto.UpdateSnapshotResponse> Update(Proto.UpdateSnapshotRequest request, ServerCallContext context)
    {
        if (request.Info is null)
        {
            throw SnapshotterException.InvalidArgument("update: info is required");
        }

        RequireKey(request.Info.Name, "info.name");
        var info = new SnapshotInfo(
            request.Info.Name,
            request.Info.Parent,
            (SnapshotKind)request.Info.Kind,
            DateTimeOffset.MinValue,
            DateTimeOffset.MinValue,
            ToDictionary(request.Info.Labels));
        IReadOnlyList<string> paths = request.UpdateMask?.Paths.ToArray() ?? [];
        var updated = await snapshotter.UpdateAsync(info, paths, context.CancellationToken);
        return new Proto.UpdateSnapshotResponse { Info = ToProto(updated) };
    }

    public override async Task List(Proto.ListSnapshotsRequest request, IServerStreamWriter<Proto.ListSnapshotsResponse> responseStream, ServerCallContext context)
    {
        var filter = SnapshotFilter.Parse(request.Filters);
        var batch = new Proto.ListSnapshotsResponse();
        await foreach (var info in snapshotter.WalkAsync(filter, context.CancellationToken))
        {
            batch.Info.Add(ToProto(info));
            if (batch.Info.Count == ListBatchSize)
            {
                await responseStream.WriteAsync(batch, context.CancellationToken);
                batch = new Proto.ListSnapshotsResponse();
            }
        }

        if (batch.Info.Count > 0)
        {
            await responseStream.WriteAsync(batch, context.CancellationToken);
        }
    }

    public override async Task<Proto.UsageResponse> Usage(Proto.UsageRequest request, ServerCallContext context)
    {
        RequireKey(request.Key, "key");
        var usage = await snapshotter.UsageAsync(request.Key, context.CancellationToken);
        return new Proto.UsageResponse { Size = usage.Size, Inodes = usage.Inodes };
    }

    public override async Task<Empty> Cleanup(Proto.CleanupRequest request, ServerCallContext context)
    {
        await snapshotter.CleanupAsync(context.CancellationToken);
        return new Empty();
    }

    internal static Proto.Info ToProto(SnapshotInfo info)
    {
        var result = new Proto.Info
        {
            Name = info.Name,
            Parent = info.Parent,
            Kind = (Proto.Kind)info.Kind,
            CreatedAt = Timestamp.FromDateTimeOffset(info.CreatedAt),
            UpdatedAt = Timestamp.FromDateTimeOffset(info.UpdatedAt),
        };
        foreach (var (key, value) in info.Labels)
        {
            result.Labels[key] = value;
        }

        return result;
    }

    internal static ProtoMount ToProto(Mount mount) => new() { Type = mount.Type, Source = mount.Source, Options = { mount.Options } };

    private static Dictionary<string, string> ToDictionary(MapField<string, string> labels) => new(labels, StringComparer.Ordinal);

    private static void RequireKey(string value, string field)
    {
        if (string.IsNullOrEmpty(value))
        {
            throw SnapshotterException.InvalidArgument($"{field} must not be empty");
        }
    }
}
