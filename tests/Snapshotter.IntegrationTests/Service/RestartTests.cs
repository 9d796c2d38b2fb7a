using Snapshotter.IntegrationTests.Fixtures;
using Xunit.Abstractions;

namespace Snapshotter.IntegrationTests.Service;

/// <summary>kill -9 of <c>snapshotter serve</c> and a restart on the same root lose nothing.</summary>
[Collection(IntegrationCollection.Name)]
public sealed class RestartTests : IntegrationTest, IClassFixture<ContainerdFixture>
{
    private readonly TestImage _image;

    public RestartTests(ContainerdFixture fixture, TestImage image, ITestOutputHelper output)
        : base(fixture, output)
    {
        _image = image;
    }

    [Fact]
    public async Task Serve_KilledWith9AndRestarted_KeepsEverySnapshotAndRunsNewContainer()
    {
        var ours = Fixture.RequireSnapshotter();
        var ctr = Fixture.Ctr(Fixture.NewNamespace("restart"));
        (await ctr.RunAsync("images", "import", "--base-name", TestImage.BaseName, "--snapshotter", Snapshotter, _image.ArchivePath)).EnsureSuccess();
        await ctr.SnapshotsOkAsync(Snapshotter, "prepare", "p");
        await ctr.SnapshotsOkAsync(Snapshotter, "commit", "mine", "p");
        await ctr.SnapshotsOkAsync(Snapshotter, "label", "mine", "keep=me");
        await ctr.SnapshotsOkAsync(Snapshotter, "prepare", "work", "mine");
        await Fixture.CollectGarbageAsync(); // the import deleted its lease; keep the view below from being collected
        await ctr.SnapshotsOkAsync(Snapshotter, "view", "look", "mine");
        string lsBefore = await ctr.SnapshotsOkAsync(Snapshotter, "ls");
        var rows = CtrOutput.Ls(lsBefore);
        var infoBefore = new Dictionary<string, string>();
        foreach (var row in rows)
        {
            infoBefore[row.Key] = await ctr.SnapshotsOkAsync(Snapshotter, "info", row.Key);
        }

        var usageBefore = CtrOutput.Usage(await ctr.SnapshotsOkAsync(Snapshotter, "usage", "-b"));
        int pidBefore = ours.Pid;

        await ours.KillAsync();
        await Fixture.RestartSnapshotterAsync();

        Assert.NotEqual(pidBefore, ours.Pid);
        string lsAfter = await ctr.SnapshotsOkAsync(Snapshotter, "ls");
        Assert.Equal(TestImage.LayerCount + 3, rows.Count);
        Assert.Equal(rows.OrderBy(r => r.Key).ToList(), CtrOutput.Ls(lsAfter).OrderBy(r => r.Key).ToList());
        foreach (var (key, before) in infoBefore)
        {
            Assert.Equal(before, await ctr.SnapshotsOkAsync(Snapshotter, "info", key));
        }

        Assert.Equal(usageBefore, CtrOutput.Usage(await ctr.SnapshotsOkAsync(Snapshotter, "usage", "-b")));
        var run = await ctr.RunContainerAsync(ProcessRunner.DefaultTimeout, Snapshotter, TestImage.Reference, "after-restart", "cat", "/data/replace.txt");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("replace-v2", run.StdOut.Trim());
        await ctr.SnapshotsOkAsync(Snapshotter, "commit", "work-done", "work");
        Assert.Equal("mine", CtrOutput.Info(await ctr.SnapshotsOkAsync(Snapshotter, "info", "work-done")).Parent);
    }

    [Fact]
    public async Task Serve_RestartedOverOrphanDirectory_CleanupRemovesOnlyTheOrphan()
    {
        var ours = Fixture.RequireSnapshotter();
        var ctr = Fixture.Ctr(Fixture.NewNamespace("orphan"));
        await ctr.SnapshotsOkAsync(Snapshotter, "prepare", "p");
        await ctr.SnapshotsOkAsync(Snapshotter, "commit", "kept", "p");
        await ctr.SnapshotsOkAsync(Snapshotter, "prepare", "active", "kept");
        await ctr.SnapshotsOkAsync(Snapshotter, "label", "active", "containerd.io/gc.root=test");
        await Fixture.CollectGarbageAsync();
        string snapshotsDir = Path.Combine(ours.Root, "snapshots");
        var before = Directory.GetDirectories(snapshotsDir).Select(Path.GetFileName).Order().ToList();

        // What a crash between mkdir and the metadata commit leaves behind: a directory no snapshot owns.
        await ours.KillAsync();
        string orphan = Path.Combine(snapshotsDir, "987654321");
        Directory.CreateDirectory(Path.Combine(orphan, "fs", "junk"));
        await File.WriteAllTextAsync(Path.Combine(orphan, "fs", "junk", "data"), "left by a crash");
        await Fixture.RestartSnapshotterAsync();
        await Fixture.CollectGarbageAsync(); // containerd's GC also calls Cleanup

        Assert.False(Directory.Exists(orphan), "the orphan directory survived the restart and Cleanup");
        Assert.Equal(before, Directory.GetDirectories(snapshotsDir).Select(Path.GetFileName).Order().ToList());
        Assert.Equal("Active", CtrOutput.Info(await ctr.SnapshotsOkAsync(Snapshotter, "info", "active")).Kind);
        await using var mounted = await MountedSnapshot.MountAsync(ctr, Snapshotter, "active", Fixture.Directory);
    }

    [Fact]
    public async Task Serve_Sigterm_ExitsZeroAndRemovesSocket()
    {
        var ours = Fixture.RequireSnapshotter();

        int exitCode = await ours.StopAsync();

        Assert.Equal(0, exitCode);
        Assert.False(File.Exists(ours.SocketPath), $"{ours.SocketPath} still exists after SIGTERM");
        await Fixture.RestartSnapshotterAsync();
        Assert.True(await UnixSockets.CanConnectAsync(ours.SocketPath));
    }
}
