using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Snapshotter.Rpc;
using Proto = Snapshotter.Rpc.Containerd.Snapshots;

namespace Snapshotter.Tests.Hosting;

/// <summary>Drives the real <c>snapshotter serve</c> process over its unix socket with the project's gRPC client.</summary>
public sealed class ServeProcessTests : IAsyncLifetime
{
    private const string Service = "/containerd.services.snapshots.v1.Snapshots/";
    private readonly string _dir = Directory.CreateTempSubdirectory("servetest").FullName;
    private ServeProcess? _serve;
    private GrpcClient? _client;

    private ServeProcess Serve => _serve!;

    private GrpcClient Client => _client!;

    private string Root => Path.Combine(_dir, "root");

    private string Address => Path.Combine(_dir, "run", "snapshotter.sock");

    public async Task InitializeAsync()
    {
        _serve = await ServeProcess.StartAsync(Root, Address);
        _client = new GrpcClient(Address);
    }

    public async Task DisposeAsync()
    {
        _client?.Dispose();
        if (_serve is not null)
        {
            await _serve.DisposeAsync();
        }

        Directory.Delete(_dir, recursive: true);
    }

    private Task<TResponse> Call<TRequest, TResponse>(string method, TRequest request, MessageParser<TResponse> parser)
        where TRequest : IMessage<TRequest>
        where TResponse : IMessage<TResponse> =>
        Client.UnaryAsync(Service + method, request, parser, new Dictionary<string, string> { ["containerd-namespace"] = "test" }, TimeSpan.FromSeconds(30));

    private Task<Proto.PrepareSnapshotResponse> Prepare(string key, string parent = "", params (string K, string V)[] labels)
    {
        var request = new Proto.PrepareSnapshotRequest { Key = key, Parent = parent };
        foreach (var (k, v) in labels)
        {
            request.Labels[k] = v;
        }

        return Call("Prepare", request, Proto.PrepareSnapshotResponse.Parser);
    }

    private Task<Empty> Commit(string name, string key, params (string K, string V)[] labels)
    {
        var request = new Proto.CommitSnapshotRequest { Name = name, Key = key };
        foreach (var (k, v) in labels)
        {
            request.Labels[k] = v;
        }

        return Call("Commit", request, Empty.Parser);
    }

    private Task<Empty> Remove(string key) => Call("Remove", new Proto.RemoveSnapshotRequest { Key = key }, Empty.Parser);

    private async Task<Proto.Info> Stat(string key) =>
        (await Call("Stat", new Proto.StatSnapshotRequest { Key = key }, Proto.StatSnapshotResponse.Parser)).Info;

    private async Task<List<Proto.Info>> List(params string[] filters)
    {
        var request = new Proto.ListSnapshotsRequest();
        request.Filters.AddRange(filters);
        var result = new List<Proto.Info>();
        await foreach (var batch in Client.ServerStreamingAsync(Service + "List", request, Proto.ListSnapshotsResponse.Parser, timeout: TimeSpan.FromSeconds(30)))
        {
            result.AddRange(batch.Info);
        }

        return result;
    }

    private static async Task<StatusCode> CodeOf(Func<Task> call, string expectedMessagePart)
    {
        var e = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Contains(expectedMessagePart, e.Detail);
        return e.StatusCode;
    }

    [Fact]
    public async Task Serve_SnapshotLifecycle_FollowsContainerdSemantics()
    {
        var first = await Prepare("ns/1/extract base", "", ("containerd.io/snapshot.ref", "base"));
        var bind = Assert.Single(first.Mounts);
        Assert.Equal("bind", bind.Type);
        Assert.Contains("rw", bind.Options);
        Assert.StartsWith(Root, bind.Source);
        await File.WriteAllTextAsync(Path.Combine(bind.Source, "hello.txt"), "hello");

        // As containerd's unpacker does: the commit carries the labels the committed snapshot keeps.
        await Commit("base", "ns/1/extract base", ("containerd.io/snapshot.ref", "base"));
        var committed = await Stat("base");
        Assert.Equal(Proto.Kind.Committed, committed.Kind);
        Assert.Equal(string.Empty, committed.Parent);
        Assert.NotNull(committed.CreatedAt);
        await CodeOf(() => Stat("ns/1/extract base"), "ns/1/extract base");

        var child = await Prepare("container", "base");
        var overlay = Assert.Single(child.Mounts);
        Assert.Equal("overlay", overlay.Type);
        Assert.Contains(overlay.Options, o => o.StartsWith("lowerdir=", StringComparison.Ordinal));
        Assert.Contains(overlay.Options, o => o.StartsWith("upperdir=", StringComparison.Ordinal));
        Assert.Contains(overlay.Options, o => o.StartsWith("workdir=", StringComparison.Ordinal));

        var mounts = await Call("Mounts", new Proto.MountsRequest { Key = "container" }, Proto.MountsResponse.Parser);
        Assert.Equal(overlay, Assert.Single(mounts.Mounts));

        var view = await Call("View", new Proto.ViewSnapshotRequest { Key = "view", Parent = "base" }, Proto.ViewSnapshotResponse.Parser);
        var viewMount = Assert.Single(view.Mounts);
        Assert.Equal("bind", viewMount.Type);
        Assert.Contains("ro", viewMount.Options);
        Assert.Equal(Proto.Kind.View, (await Stat("view")).Kind);

        var usage = await Call("Usage", new Proto.UsageRequest { Key = "base" }, Proto.UsageResponse.Parser);
        Assert.True(usage.Size > 0, $"usage size {usage.Size}");
        Assert.True(usage.Inodes >= 2, $"usage inodes {usage.Inodes}");

        var update = new Proto.UpdateSnapshotRequest { Info = new Proto.Info { Name = "base" }, UpdateMask = new FieldMask() };
        update.Info.Labels["team"] = "blue";
        update.UpdateMask.Paths.Add("labels.team");
        var updated = await Call("Update", update, Proto.UpdateSnapshotResponse.Parser);
        Assert.Equal("blue", updated.Info.Labels["team"]);
        Assert.Equal("base", updated.Info.Labels["containerd.io/snapshot.ref"]);

        Assert.Equal(["base"], (await List("labels.\"containerd.io/snapshot.ref\"==base")).Select(i => i.Name));
        Assert.Equal(["container", "view"], (await List("parent==\"base\"")).Select(i => i.Name).Order());
        Assert.Equal(["base"], (await List("labels.team==blue,kind==committed")).Select(i => i.Name));
        Assert.Equal(3, (await List()).Count);

        Assert.Equal(StatusCode.FailedPrecondition, await CodeOf(() => Remove("base"), "base"));
        await Remove("container");
        await Remove("view");
        await Remove("base");
        await Call("Cleanup", new Proto.CleanupRequest(), Empty.Parser);
        Assert.Empty(await List());
    }

    [Fact]
    public async Task Serve_Errors_MapToContainerdStatusCodes()
    {
        await Prepare("k1");
        Assert.Equal(StatusCode.AlreadyExists, await CodeOf(() => Prepare("k1"), "k1"));
        Assert.Equal(StatusCode.NotFound, await CodeOf(() => Prepare("k2", "missing-parent"), "missing-parent"));
        Assert.Equal(StatusCode.NotFound, await CodeOf(() => Stat("nope"), "nope"));
        Assert.Equal(StatusCode.NotFound, await CodeOf(() => Remove("nope"), "nope"));
        Assert.Equal(StatusCode.InvalidArgument, await CodeOf(() => Prepare(""), "key"));
        Assert.Equal(StatusCode.InvalidArgument, await CodeOf(() => List("labels.x=="), "filter"));
        Assert.Equal(StatusCode.InvalidArgument, await CodeOf(() => Prepare("k3", "k1"), "k1"));

        await Commit("c1", "k1");
        Assert.Equal(StatusCode.NotFound, await CodeOf(() => Commit("c2", "k1"), "k1"));
        await Prepare("k4");
        Assert.Equal(StatusCode.AlreadyExists, await CodeOf(() => Commit("c1", "k4"), "c1"));
        Assert.Equal(StatusCode.FailedPrecondition, await CodeOf(() => Commit("c3", "c1"), "c1"));
        Assert.Equal(StatusCode.FailedPrecondition, await CodeOf(() => Call("Mounts", new Proto.MountsRequest { Key = "c1" }, Proto.MountsResponse.Parser), "c1"));

        var badUpdate = new Proto.UpdateSnapshotRequest { Info = new Proto.Info { Name = "c1", Parent = "x" }, UpdateMask = new FieldMask() };
        badUpdate.UpdateMask.Paths.Add("parent");
        Assert.Equal(StatusCode.InvalidArgument, await CodeOf(() => Call("Update", badUpdate, Proto.UpdateSnapshotResponse.Parser), "parent"));
        Assert.Equal(StatusCode.InvalidArgument, await CodeOf(() => Call("Update", new Proto.UpdateSnapshotRequest(), Proto.UpdateSnapshotResponse.Parser), "info"));

        var unknown = await Assert.ThrowsAsync<RpcException>(() =>
            Client.UnaryAsync("/containerd.services.snapshots.v1.Snapshots/Rebase", new Proto.StatSnapshotRequest(), Proto.StatSnapshotResponse.Parser));
        Assert.Equal(StatusCode.Unimplemented, unknown.StatusCode);

        // The daemon keeps serving after all of that.
        Assert.Equal(Proto.Kind.Committed, (await Stat("c1")).Kind);
    }

    [Fact]
    public async Task Serve_ListOfMoreThanOneBatch_StreamsEverything()
    {
        for (var i = 0; i < 230; i++)
        {
            await Prepare($"many-{i:D3}");
        }

        var all = await List();

        Assert.Equal(230, all.Count);
        Assert.Equal(230, all.Select(i => i.Name).Distinct().Count());
    }

    [Fact]
    public async Task Serve_SocketAndDirectory_HaveRestrictedModes()
    {
        var socketMode = File.GetUnixFileMode(Address);
        var dirMode = File.GetUnixFileMode(Path.GetDirectoryName(Address)!);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite, socketMode);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, dirMode);
    }

    [Fact]
    public async Task Serve_Sigterm_ExitsZeroAndRemovesSocket()
    {
        await Prepare("before-term");

        var exit = await Serve.SignalAndWaitAsync(15);

        Assert.Equal(0, exit);
        Assert.False(File.Exists(Address), "socket still exists after SIGTERM");
        Assert.Contains("stopped", Serve.Output);
    }

    [Fact]
    public async Task Serve_KillNineThenRestart_KeepsSnapshotsAndReplacesStaleSocket()
    {
        await Prepare("survivor");
        await Commit("survivor-committed", "survivor");
        await Prepare("active-child", "survivor-committed");

        // A process killed by SIGKILL reports 128 + 9.
        Assert.Equal(137, await Serve.SignalAndWaitAsync(9));
        Assert.True(File.Exists(Address), "kill -9 should leave the socket file behind");

        _client!.Dispose();
        await _serve!.DisposeAsync();
        _serve = await ServeProcess.StartAsync(Root, Address);
        _client = new GrpcClient(Address);

        Assert.Equal(Proto.Kind.Committed, (await Stat("survivor-committed")).Kind);
        var child = await Stat("active-child");
        Assert.Equal(Proto.Kind.Active, child.Kind);
        Assert.Equal("survivor-committed", child.Parent);
        Assert.Contains("stale socket", Serve.Output);
    }

    [Fact]
    public async Task Serve_SecondInstanceOnSameSocket_FailsClearly()
    {
        var (exit, _, stderr) = await ServeProcess.RunToEndAsync("serve", "--root", Path.Combine(_dir, "root2"), "--address", Address);

        Assert.Equal(2, exit);
        Assert.Contains("already serving", stderr);
        Assert.Single((await Prepare("still-works")).Mounts);
    }

    [Fact]
    public async Task Serve_SecondInstanceOnSameRoot_FailsClearly()
    {
        var (exit, _, stderr) = await ServeProcess.RunToEndAsync("serve", "--root", Root, "--address", Path.Combine(_dir, "other.sock"));

        Assert.Equal(2, exit);
        Assert.Contains("in use by another snapshotter", stderr);
        Assert.False(File.Exists(Path.Combine(_dir, "other.sock")));
        Assert.Single((await Prepare("root-still-served")).Mounts);
    }
}
