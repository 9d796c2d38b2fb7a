using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using Proto = Snapshotter.Containerd.Snapshots;

namespace Snapshotter.Tests.Hosting;

/// <summary>The generated snapshots client on a unix socket, with the calls the tests make, as containerd sends them.</summary>
internal sealed class SnapshotsTestClient : IDisposable
{
    public const string ServiceName = "containerd.services.snapshots.v1.Snapshots";
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);
    private readonly GrpcChannel _channel;

    public SnapshotsTestClient(string socketPath)
    {
        _channel = UnixSocketChannel.Create(socketPath);
        Client = new Proto.Snapshots.SnapshotsClient(_channel);
    }

    public Proto.Snapshots.SnapshotsClient Client { get; }

    /// <summary>Options of every call: containerd's namespace header and a deadline (30 s unless given).</summary>
    public static CallOptions Options(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        new(new Metadata { { "containerd-namespace", "test" } }, DateTime.UtcNow + (timeout ?? DefaultTimeout), cancellationToken);

    public async Task<Proto.PrepareSnapshotResponse> Prepare(string key, string parent = "", params (string K, string V)[] labels)
    {
        var request = new Proto.PrepareSnapshotRequest { Key = key, Parent = parent };
        foreach (var (k, v) in labels)
        {
            request.Labels[k] = v;
        }

        return await Client.PrepareAsync(request, Options());
    }

    public async Task<Empty> Commit(string name, string key, params (string K, string V)[] labels)
    {
        var request = new Proto.CommitSnapshotRequest { Name = name, Key = key };
        foreach (var (k, v) in labels)
        {
            request.Labels[k] = v;
        }

        return await Client.CommitAsync(request, Options());
    }

    public async Task<Empty> Remove(string key) => await Client.RemoveAsync(new Proto.RemoveSnapshotRequest { Key = key }, Options());

    public async Task<Proto.Info> Stat(string key) => (await Client.StatAsync(new Proto.StatSnapshotRequest { Key = key }, Options())).Info;

    /// <summary>Every List response message (batch) in order.</summary>
    public async Task<List<Proto.ListSnapshotsResponse>> ListBatches(params string[] filters)
    {
        var request = new Proto.ListSnapshotsRequest();
        request.Filters.AddRange(filters);
        using var call = Client.List(request, Options());
        var result = new List<Proto.ListSnapshotsResponse>();
        await foreach (var batch in call.ResponseStream.ReadAllAsync())
        {
            result.Add(batch);
        }

        return result;
    }

    public async Task<List<Proto.Info>> List(params string[] filters) => [.. (await ListBatches(filters)).SelectMany(b => b.Info)];

    /// <summary>A unary call of <paramref name="method"/> on the snapshots service with a raw request body.</summary>
    public async Task<byte[]> RawUnary(string method, byte[] request, TimeSpan? timeout = null)
    {
        var marshaller = Marshallers.Create(b => b, b => b);
        var raw = new Method<byte[], byte[]>(MethodType.Unary, ServiceName, method, marshaller, marshaller);
        return await _channel.CreateCallInvoker().AsyncUnaryCall(raw, null, Options(timeout), request);
    }

    /// <summary>The status code of a call that must fail, checking its message names <paramref name="expectedMessagePart"/>.</summary>
    public static async Task<StatusCode> CodeOf(Func<Task> call, string expectedMessagePart)
    {
        var e = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Contains(expectedMessagePart, e.Status.Detail);
        return e.StatusCode;
    }

    public void Dispose() => _channel.Dispose();
}
