using Snapshotter.Rpc.Containerd.Snapshots;

namespace Snapshotter.Rpc.Tests;

/// <summary>End-to-end: <see cref="GrpcClient"/> against a real Kestrel server on a unix socket.</summary>
public sealed class GrpcClientTests(GrpcTestServer server) : IClassFixture<GrpcTestServer>
{
    private const string Service = GrpcTestServer.Service;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private async Task<List<ListSnapshotsResponse>> ListAsync(GrpcClient client, params string[] filters)
    {
        var results = new List<ListSnapshotsResponse>();
        await foreach (ListSnapshotsResponse response in client.ServerStreamingAsync(Service + "List", new ListSnapshotsRequest { Filters = { filters } }, ListSnapshotsResponse.Parser))
        {
            results.Add(response);
        }

        return results;
    }

    [Fact]
    public async Task UnaryAsync_EchoHandler_ReturnsResponseBuiltFromRequestAndMetadata()
    {
        using var client = new GrpcClient(server.SocketPath);
        var request = new PrepareSnapshotRequest { Key = "default/1/layer", Parent = "p", Labels = { ["b"] = "2", ["a"] = "1" } };

        PrepareSnapshotResponse response = await client.UnaryAsync(Service + "Prepare", request, PrepareSnapshotResponse.Parser,
            new Dictionary<string, string> { ["containerd-namespace"] = "k8s.io" });

        Containerd.Types.Mount mount = Assert.Single(response.Mounts);
        Assert.Equal("k8s.io", mount.Type);
        Assert.Equal("default/1/layer", mount.Source);
        Assert.Equal(Service + "Prepare", mount.Target);
        Assert.Equal(["a=1", "b=2", "deadline=none"], mount.Options);
    }

    [Fact]
    public async Task UnaryAsync_EmptyRequestMessage_SendsZeroLengthMessage()
    {
        using var client = new GrpcClient(server.SocketPath);

        PrepareSnapshotResponse response = await client.UnaryAsync(Service + "Prepare", new PrepareSnapshotRequest(), PrepareSnapshotResponse.Parser);

        Assert.Equal(string.Empty, Assert.Single(response.Mounts).Source);
    }

    [Fact]
    public async Task UnaryAsync_WithTimeout_HandlerSeesDeadline()
    {
        using var client = new GrpcClient(server.SocketPath);
        DateTimeOffset before = DateTimeOffset.UtcNow;

        PrepareSnapshotResponse response = await client.UnaryAsync(Service + "Prepare", new PrepareSnapshotRequest { Key = "d" }, PrepareSnapshotResponse.Parser,
            timeout: TimeSpan.FromSeconds(30));

        string option = Assert.Single(response.Mounts).Options.Single(o => o.StartsWith("deadline=", StringComparison.Ordinal));
        var deadline = DateTimeOffset.Parse(option["deadline=".Length..], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(deadline, before.AddSeconds(29), DateTimeOffset.UtcNow.AddSeconds(31));
    }

    [Fact]
    public async Task UnaryAsync_ManyConcurrentCalls_AllSucceedOnOneClient()
    {
        using var client = new GrpcClient(server.SocketPath);

        PrepareSnapshotResponse[] responses = await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
            client.UnaryAsync(Service + "Prepare", new PrepareSnapshotRequest { Key = "k" + i }, PrepareSnapshotResponse.Parser)));

        Assert.Equal(Enumerable.Range(0, 40).Select(i => "k" + i), responses.Select(r => r.Mounts[0].Source));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(250)]
    public async Task ServerStreamingAsync_NMessages_ReceivesAllInOrder(int count)
    {
        using var client = new GrpcClient(server.SocketPath);

        List<ListSnapshotsResponse> results = await ListAsync(client, count.ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(Enumerable.Range(0, count).Select(i => "snap-" + i), results.Select(r => Assert.Single(r.Info).Name));
    }

    [Fact]
    public async Task ServerStreamingAsync_ThroughCallerOwnedHttpClient_StreamsIncrementally()
    {
        using HttpClient http = server.CreateRawHttpClient();
        using var client = new GrpcClient(http, new Uri("http://localhost/"));

        List<ListSnapshotsResponse> results = await ListAsync(client, "250", "ok", "1000");

        Assert.Equal(250, results.Count);
        Assert.All(results, r => Assert.Equal(1000, r.Info[0].Parent.Length));
    }

    [Fact]
    public async Task UnaryAsync_HandlerThrowsRpcException_ClientGetsCodeAndExactMessage()
    {
        using var client = new GrpcClient(server.SocketPath);

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            client.UnaryAsync(Service + "View", new ViewSnapshotRequest { Key = "v" }, ViewSnapshotResponse.Parser));

        Assert.Equal(StatusCode.NotFound, ex.StatusCode);
        Assert.Equal(GrpcTestServer.NotFoundMessage, ex.Detail);
    }

    [Fact]
    public async Task ServerStreamingAsync_HandlerFailsAfterTwoMessages_ClientGetsTwoThenError()
    {
        using var client = new GrpcClient(server.SocketPath);
        var received = new List<string>();

        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (ListSnapshotsResponse response in client.ServerStreamingAsync(Service + "List", new ListSnapshotsRequest { Filters = { "2", "fail" } }, ListSnapshotsResponse.Parser))
            {
                received.Add(response.Info[0].Name);
            }
        });

        Assert.Equal(["snap-0", "snap-1"], received);
        Assert.Equal(StatusCode.Aborted, ex.StatusCode);
        Assert.Equal("failed after 2", ex.Detail);
    }

    [Fact]
    public async Task UnaryAsync_UnknownMethod_ThrowsUnimplemented()
    {
        using var client = new GrpcClient(server.SocketPath);

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            client.UnaryAsync("/containerd.services.snapshots.v1.Snapshots/Nope", new ViewSnapshotRequest(), ViewSnapshotResponse.Parser));

        Assert.Equal(StatusCode.Unimplemented, ex.StatusCode);
        Assert.Contains("/containerd.services.snapshots.v1.Snapshots/Nope", ex.Detail);
    }

    [Fact]
    public async Task UnaryAsync_HandlerThrowsPlainException_StatusComesFromExceptionMapper()
    {
        using var client = new GrpcClient(server.SocketPath);

        var mapped = await Assert.ThrowsAsync<RpcException>(() =>
            client.UnaryAsync(Service + "Mounts", new MountsRequest { Key = "m1" }, MountsResponse.Parser));
        var unmapped = await Assert.ThrowsAsync<RpcException>(() =>
            client.UnaryAsync(Service + "Remove", new RemoveSnapshotRequest { Key = "r1" }, Google.Protobuf.WellKnownTypes.Empty.Parser));

        Assert.Equal((StatusCode.FailedPrecondition, "mapped: state is wrong for m1"), (mapped.StatusCode, mapped.Detail));
        Assert.Equal((StatusCode.Unknown, "unmapped: format broke for r1"), (unmapped.StatusCode, unmapped.Detail));
        Assert.Contains(server.Logs.Entries, e => e.EventId.Id == 3000 && e.Exception is FormatException && e.Message.Contains(Service + "Remove", StringComparison.Ordinal));
        Assert.DoesNotContain(server.Logs.Entries, e => e.EventId.Id == 3000 && e.Exception is InvalidOperationException);
        Assert.Contains(server.Logs.Entries, e => e.EventId.Id == 3001 && e.Message.Contains("mapped: state is wrong for m1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task UnaryAsync_TimeoutExpiresInSlowHandler_DeadlineExceededAndHandlerTokenCancelled()
    {
        using var client = new GrpcClient(server.SocketPath);
        CallProbe probe = server.Probe("deadline-client");

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            client.UnaryAsync(Service + "Stat", new StatSnapshotRequest { Key = "deadline-client" }, StatSnapshotResponse.Parser, timeout: TimeSpan.FromMilliseconds(300)));

        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
        ServerCallContext context = await probe.Started.Task.WaitAsync(Patience);
        Assert.NotNull(context.Deadline);
        await probe.Cancelled.Task.WaitAsync(Patience);
        Assert.True(context.CancellationToken.IsCancellationRequested);
    }

    [Fact]
    public async Task UnaryAsync_RequestOverServerLimit_ThrowsResourceExhausted()
    {
        using var client = new GrpcClient(server.SocketPath);
        var request = new PrepareSnapshotRequest { Key = new string('k', GrpcTestServer.MaxReceiveMessageSize + 1) };

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            client.UnaryAsync(Service + "Prepare", request, PrepareSnapshotResponse.Parser));

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.Contains($"vs. {GrpcTestServer.MaxReceiveMessageSize}", ex.Detail);
    }

    [Fact]
    public async Task UnaryAsync_RequestOverClientSendLimit_ThrowsResourceExhaustedBeforeSending()
    {
        using var client = new GrpcClient(server.SocketPath) { MaxSendMessageSize = 10 };

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            client.UnaryAsync(Service + "Prepare", new PrepareSnapshotRequest { Key = "longer than ten" }, PrepareSnapshotResponse.Parser));

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.Contains("trying to send", ex.Detail);
    }

    [Fact]
    public async Task ServerStreamingAsync_ResponseOverClientReceiveLimit_ThrowsResourceExhausted()
    {
        using var client = new GrpcClient(server.SocketPath) { MaxReceiveMessageSize = 100 };

        var ex = await Assert.ThrowsAsync<RpcException>(() => ListAsync(client, "1", "ok", "200"));

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
    }

    [Fact]
    public async Task UnaryAsync_ClientCancels_HandlerTokenCancelledAndClientGetsCancelled()
    {
        using var client = new GrpcClient(server.SocketPath);
        CallProbe probe = server.Probe("cancel-client");
        using var cts = new CancellationTokenSource();

        Task<StatSnapshotResponse> call = client.UnaryAsync(Service + "Stat", new StatSnapshotRequest { Key = "cancel-client" }, StatSnapshotResponse.Parser, cancellationToken: cts.Token);
        ServerCallContext context = await probe.Started.Task.WaitAsync(Patience);
        Assert.Null(context.Deadline);
        await cts.CancelAsync();

        var ex = await Assert.ThrowsAsync<RpcException>(() => call);
        Assert.Equal(StatusCode.Cancelled, ex.StatusCode);
        await probe.Cancelled.Task.WaitAsync(Patience);
    }

    [Fact]
    public async Task UnaryAsync_NoServerOnSocket_ThrowsUnavailable()
    {
        using var client = new GrpcClient(Path.Combine(Path.GetTempPath(), $"rpc-missing-{Guid.NewGuid():N}.sock"));

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            client.UnaryAsync(Service + "Prepare", new PrepareSnapshotRequest(), PrepareSnapshotResponse.Parser));

        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
    }
}
