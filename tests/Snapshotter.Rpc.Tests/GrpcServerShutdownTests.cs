using Snapshotter.Rpc.Containerd.Snapshots;

namespace Snapshotter.Rpc.Tests;

public sealed class GrpcServerShutdownTests
{
    [Fact]
    public async Task DisposeAsync_CancelCallsOnShutdown_HandlerTokenCancelledAndClientGetsUnavailable()
    {
        var server = new GrpcTestServer { CancelCallsOnShutdown = true };
        await server.InitializeAsync();
        CallProbe probe = server.Probe("shutdown");
        using var client = new GrpcClient(server.SocketPath);
        Task<StatSnapshotResponse> call = client.UnaryAsync(GrpcTestServer.Service + "Stat", new StatSnapshotRequest { Key = "shutdown" }, StatSnapshotResponse.Parser);
        await probe.Started.Task.WaitAsync(TimeSpan.FromSeconds(10));

        await server.DisposeAsync().WaitAsync(TimeSpan.FromSeconds(20));

        await probe.Cancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var ex = await Assert.ThrowsAsync<RpcException>(() => call.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
        Assert.False(File.Exists(server.SocketPath));
    }

    [Fact]
    public async Task DisposeAsync_DefaultOptions_CallInProgressFinishesBeforeStop()
    {
        var server = new GrpcTestServer();
        await server.InitializeAsync();
        CallProbe probe = server.Probe("drain-1");
        using var client = new GrpcClient(server.SocketPath);
        Task<StatSnapshotResponse> call = client.UnaryAsync(GrpcTestServer.Service + "Stat", new StatSnapshotRequest { Key = "drain-1" }, StatSnapshotResponse.Parser);
        await probe.Started.Task.WaitAsync(TimeSpan.FromSeconds(10));

        await server.DisposeAsync().WaitAsync(TimeSpan.FromSeconds(20));

        Assert.True(call.IsCompleted, "the host stopped before the call in flight finished");
        Assert.Equal("drain-1", (await call).Info.Name);
        Assert.False(File.Exists(server.SocketPath));
    }
}
