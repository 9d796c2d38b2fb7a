using Snapshotter.Rpc.Containerd.Snapshots;

namespace Snapshotter.Rpc.Tests;

public sealed class GrpcServiceRegistryTests
{
    private static Task<PrepareSnapshotResponse> Handler(PrepareSnapshotRequest request, ServerCallContext context) => Task.FromResult(new PrepareSnapshotResponse());

    [Theory]
    [InlineData("")]
    [InlineData("Prepare")]
    [InlineData("/Prepare")]
    [InlineData("//Prepare")]
    [InlineData("/pkg.Service/")]
    public void AddUnary_MalformedPath_Throws(string path)
    {
        Assert.ThrowsAny<ArgumentException>(() => new GrpcServiceRegistry().AddUnary<PrepareSnapshotRequest, PrepareSnapshotResponse>(path, PrepareSnapshotRequest.Parser, Handler));
    }

    [Fact]
    public void AddUnary_DuplicatePath_Throws()
    {
        var registry = new GrpcServiceRegistry().AddUnary<PrepareSnapshotRequest, PrepareSnapshotResponse>("/p.S/M", PrepareSnapshotRequest.Parser, Handler);

        var ex = Assert.Throws<ArgumentException>(() => registry.AddServerStreaming<PrepareSnapshotRequest, PrepareSnapshotResponse>("/p.S/M", PrepareSnapshotRequest.Parser, (_, _, _) => Task.CompletedTask));

        Assert.Contains("already registered", ex.Message);
    }

    [Fact]
    public void AddUnary_ValidPaths_AreFoundExactly()
    {
        var registry = new GrpcServiceRegistry()
            .AddUnary<PrepareSnapshotRequest, PrepareSnapshotResponse>("/p.S/A", PrepareSnapshotRequest.Parser, Handler)
            .AddServerStreaming<PrepareSnapshotRequest, PrepareSnapshotResponse>("/p.S/B", PrepareSnapshotRequest.Parser, (_, _, _) => Task.CompletedTask);

        Assert.True(registry.TryGetMethod("/p.S/A", out _));
        Assert.True(registry.TryGetMethod("/p.S/B", out _));
        Assert.False(registry.TryGetMethod("/p.s/a", out _));
        Assert.False(registry.TryGetMethod("/p.S/C", out _));
    }
}
