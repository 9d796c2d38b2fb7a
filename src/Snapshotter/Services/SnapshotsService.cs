using Google.Protobuf.Collections;
using Google.Protobuf.WellKnownTypes;
using Snapshotter.Core;
using Snapshotter.Core.Snapshots;
using Snapshotter.Rpc;
using Proto = Snapshotter.Rpc.Containerd.Snapshots;
using ProtoMount = Snapshotter.Rpc.Containerd.Types.Mount;

namespace Snapshotter.Services;

/// <summary>
/// containerd's <c>containerd.services.snapshots.v1.Snapshots</c> service: a thin adapter that validates
/// requests, translates them to <see cref="ISnapshotter"/> and translates results back. No snapshot logic here.
/// </summary>
internal sealed class SnapshotsService(ISnapshotter snapshotter)
{
    /// <summary>The service's path prefix; methods are <c>{ServicePath}/{Method}</c>.</summary>
    public const string ServicePath = "/containerd.services.snapshots.v1.Snapshots";

    /// <summary>containerd itself sends List results in batches of up to 100 infos.</summary>
    private const int ListBatchSize = 100;

    /// <summary>Registers all ten methods.</summary>
    public void Register(GrpcServiceRegistry registry)
    {
        registry
            .AddUnary<Proto.PrepareSnapshotRequest, Proto.PrepareSnapshotResponse>($"{ServicePath}/Prepare", Proto.PrepareSnapshotRequest.Parser, PrepareAsync)
            .AddUnary<Proto.ViewSnapshotRequest, Proto.ViewSnapshotResponse>($"{ServicePath}/View", Proto.ViewSnapshotRequest.Parser, ViewAsync)
            .AddUnary<Proto.MountsRequest, Proto.MountsResponse>($"{ServicePath}/Mounts", Proto.MountsRequest.Parser, MountsAsync)
            .AddUnary<Proto.CommitSnapshotRequest, Empty>($"{ServicePath}/Commit", Proto.CommitSnapshotRequest.Parser, CommitAsync)
            .AddUnary<Proto.RemoveSnapshotRequest, Empty>($"{ServicePath}/Remove", Proto.RemoveSnapshotRequest.Parser, RemoveAsync)
            .AddUnary<Proto.StatSnapshotRequest, Proto.StatSnapshotResponse>($"{ServicePath}/Stat", Proto.StatSnapshotRequest.Parser, StatAsync)
            .AddUnary<Proto.UpdateSnapshotRequest, Proto.UpdateSnapshotResponse>($"{ServicePath}/Update", Proto.UpdateSnapshotRequest.Parser, UpdateAsync)
            .AddServerStreaming<Proto.ListSnapshotsRequest, Proto.ListSnapshotsResponse>($"{ServicePath}/List", Proto.ListSnapshotsRequest.Parser, ListAsync)
            .AddUnary<Proto.UsageRequest, Proto.UsageResponse>($"{ServicePath}/Usage", Proto.UsageRequest.Parser, UsageAsync)
            .AddUnary<Proto.CleanupRequest, Empty>($"{ServicePath}/Cleanup", Proto.CleanupRequest.Parser, CleanupAsync);
    }

    public async Task<Proto.PrepareSnapshotResponse> PrepareAsync(Proto.PrepareSnapshotRequest request, ServerCallContext context)
    {
        RequireKey(request.Key, "key");
        var mounts = await snapshotter.PrepareAsync(request.Key, request.Parent, ToDictionary(request.Labels), context.CancellationToken);
        var response = new Proto.PrepareSnapshotResponse();
        response.Mounts.AddRange(mounts.Select(ToProto));
        return response;
    }

    public async Task<Proto.ViewSnapshotResponse> ViewAsync(Proto.ViewSnapshotRequest request, ServerCallContext context)
    {
        RequireKey(request.Key, "key");
        var mounts = await snapshotter.ViewAsync(request.Key, request.Parent, ToDictionary(request.Labels), context.CancellationToken);
        var response = new Proto.ViewSnapshotResponse();
        response.Mounts.AddRange(mounts.Select(ToProto));
        return response;
    }

    public async Task<Proto.MountsResponse> MountsAsync(Proto.MountsRequest request, ServerCallContext context)
    {
        RequireKey(request.Key, "key");
        var mounts = await snapshotter.MountsAsync(request.Key, context.CancellationToken);
        var response = new Proto.MountsResponse();
        response.Mounts.AddRange(mounts.Select(ToProto));
        return response;
    }

    public async Task<Empty> CommitAsync(Proto.CommitSnapshotRequest request, ServerCallContext context)
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

    public async Task<Empty> RemoveAsync(Proto.RemoveSnapshotRequest request, ServerCallContext context)
    {
        RequireKey(request.Key, "key");
        await snapshotter.RemoveAsync(request.Key, context.CancellationToken);
        return new Empty();
    }

    public async Task<Proto.StatSnapshotResponse> StatAsync(Proto.StatSnapshotRequest request, ServerCallContext context)
    {
        RequireKey(request.Key, "key");
        var info = await snapshotter.StatAsync(request.Key, context.CancellationToken);
        return new Proto.StatSnapshotResponse { Info = ToProto(info) };
    }

    public async Task<Proto.UpdateSnapshotResponse> UpdateAsync(Proto.UpdateSnapshotRequest request, ServerCallContext context)
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

    public async Task ListAsync(Proto.ListSnapshotsRequest request, IServerStreamWriter<Proto.ListSnapshotsResponse> writer, ServerCallContext context)
    {
        var filter = SnapshotFilter.Parse(request.Filters);
        var batch = new Proto.ListSnapshotsResponse();
        await foreach (var info in snapshotter.WalkAsync(filter, context.CancellationToken))
        {
            batch.Info.Add(ToProto(info));
            if (batch.Info.Count == ListBatchSize)
            {
                await writer.WriteAsync(batch, context.CancellationToken);
                batch = new Proto.ListSnapshotsResponse();
            }
        }

        if (batch.Info.Count > 0)
        {
            await writer.WriteAsync(batch, context.CancellationToken);
        }
    }

    public async Task<Proto.UsageResponse> UsageAsync(Proto.UsageRequest request, ServerCallContext context)
    {
        RequireKey(request.Key, "key");
        var usage = await snapshotter.UsageAsync(request.Key, context.CancellationToken);
        return new Proto.UsageResponse { Size = usage.Size, Inodes = usage.Inodes };
    }

    public async Task<Empty> CleanupAsync(Proto.CleanupRequest request, ServerCallContext context)
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

    internal static ProtoMount ToProto(Mount mount)
    {
        var result = new ProtoMount { Type = mount.Type, Source = mount.Source };
        result.Options.AddRange(mount.Options);
        return result;
    }

    private static Dictionary<string, string> ToDictionary(MapField<string, string> labels) => new(labels, StringComparer.Ordinal);

    private static void RequireKey(string value, string field)
    {
        if (string.IsNullOrEmpty(value))
        {
            throw SnapshotterException.InvalidArgument($"{field} must not be empty");
        }
    }
}
