using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Proto = Snapshotter.Containerd.Snapshots;
using static Snapshotter.Tests.Hosting.SnapshotsTestClient;

namespace Snapshotter.Tests.Hosting;

/// <summary>Drives the real <c>snapshotter serve</c> process over its unix socket with Grpc.Net.Client.</summary>
public sealed class ServeProcessTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("servetest").FullName;
    private ServeProcess? _serve;
    private SnapshotsTestClient? _client;

    private ServeProcess Serve => _serve!;

    private SnapshotsTestClient Client => _client!;

    private string Root => Path.Combine(_dir, "root");

    private string Address => Path.Combine(_dir, "run", "snapshotter.sock");

    public async Task InitializeAsync()
    {
        _serve = await ServeProcess.StartAsync(Root, Address);
        _client = new SnapshotsTestClient(Address);
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

    private Task<Proto.PrepareSnapshotResponse> Prepare(string key, string parent = "", params (string K, string V)[] labels) => Client.Prepare(key, parent, labels);

    private Task<Empty> Commit(string name, string key, params (string K, string V)[] labels) => Client.Commit(name, key, labels);

    private Task<Empty> Remove(string key) => Client.Remove(key);

    private Task<Proto.Info> Stat(string key) => Client.Stat(key);

    private Task<List<Proto.Info>> List(params string[] filters) => Client.List(filters);

    private Proto.Snapshots.SnapshotsClient Api => Client.Client;

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

        var mounts = await Api.MountsAsync(new Proto.MountsRequest { Key = "container" }, Options());
        Assert.Equal(overlay, Assert.Single(mounts.Mounts));

        var view = await Api.ViewAsync(new Proto.ViewSnapshotRequest { Key = "view", Parent = "base" }, Options());
        var viewMount = Assert.Single(view.Mounts);
        Assert.Equal("bind", viewMount.Type);
        Assert.Contains("ro", viewMount.Options);
        Assert.Equal(Proto.Kind.View, (await Stat("view")).Kind);

        var usage = await Api.UsageAsync(new Proto.UsageRequest { Key = "base" }, Options());
        Assert.True(usage.Size > 0, $"usage size {usage.Size}");
        Assert.True(usage.Inodes >= 2, $"usage inodes {usage.Inodes}");

        var update = new Proto.UpdateSnapshotRequest { Info = new Proto.Info { Name = "base" }, UpdateMask = new FieldMask() };
        update.Info.Labels["team"] = "blue";
        update.UpdateMask.Paths.Add("labels.team");
        var updated = await Api.UpdateAsync(update, Options());
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
        await Api.CleanupAsync(new Proto.CleanupRequest(), Options());
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
        Assert.Equal(StatusCode.FailedPrecondition, await CodeOf(() => Api.MountsAsync(new Proto.MountsRequest { Key = "c1" }, Options()).ResponseAsync, "c1"));

        var badUpdate = new Proto.UpdateSnapshotRequest { Info = new Proto.Info { Name = "c1", Parent = "x" }, UpdateMask = new FieldMask() };
        badUpdate.UpdateMask.Paths.Add("parent");
        Assert.Equal(StatusCode.InvalidArgument, await CodeOf(() => Api.UpdateAsync(badUpdate, Options()).ResponseAsync, "parent"));
        Assert.Equal(StatusCode.InvalidArgument, await CodeOf(() => Api.UpdateAsync(new Proto.UpdateSnapshotRequest(), Options()).ResponseAsync, "info"));

        var rebase = new Proto.CommitSnapshotRequest { Name = "c5", Key = "k4", Parent = "c1" };
        Assert.Equal(StatusCode.Unimplemented, await CodeOf(() => Api.CommitAsync(rebase, Options()).ResponseAsync, "different parent"));
        var unknown = await Assert.ThrowsAsync<RpcException>(() => Client.RawUnary("Rebase", new Proto.StatSnapshotRequest { Key = "c1" }.ToByteArray()));
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

        var batches = await Client.ListBatches();

        // containerd's own service sends batches of up to 100 infos.
        Assert.Equal([100, 100, 30], batches.Select(b => b.Info.Count));
        Assert.Equal(230, batches.SelectMany(b => b.Info).Select(i => i.Name).Distinct().Count());
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
        _client = new SnapshotsTestClient(Address);

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
