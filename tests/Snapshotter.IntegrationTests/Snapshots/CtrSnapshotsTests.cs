using Snapshotter.IntegrationTests.Fixtures;
using Xunit.Abstractions;

namespace Snapshotter.IntegrationTests.Snapshots;

/// <summary>
/// <c>ctr snapshots --snapshotter lazy ...</c> through real containerd 1.6 into our service:
/// every subcommand's output and the error cases (exit code and the message on stderr).
/// </summary>
[Collection(IntegrationCollection.Name)]
public sealed class CtrSnapshotsTests : IntegrationTest, IClassFixture<ContainerdFixture>
{
    private readonly Ctr _ctr;

    public CtrSnapshotsTests(ContainerdFixture fixture, ITestOutputHelper output)
        : base(fixture, output)
    {
        _ctr = fixture.Ctr(fixture.NewNamespace("snap"));
    }

    [Fact]
    public async Task Prepare_WithMountsFlag_PrintsWritableBindMountOfEmptyDirectory()
    {
        var mounts = CtrOutput.Mounts(await _ctr.SnapshotsOkAsync(Snapshotter, "prepare", "--mounts", "a"));

        var mount = Assert.Single(mounts);
        Assert.Equal("bind", mount.Type);
        Assert.Contains("rw", mount.Options);
        Assert.Contains("rbind", mount.Options);
        Assert.True(Directory.Exists(mount.Source), $"mount source {mount.Source} does not exist");
        Assert.Empty(Directory.EnumerateFileSystemEntries(mount.Source));
        if (Fixture.Snapshotter is { } ours)
        {
            Assert.StartsWith(ours.Root + "/", mount.Source, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Prepare_OnCommittedParent_ReturnsOverlaySeeingParentFiles()
    {
        await WriteCommittedAsync("base", "a", ("hello.txt", "from the parent"));

        var mounts = CtrOutput.Mounts(await _ctr.SnapshotsOkAsync(Snapshotter, "prepare", "--mounts", "child", "base"));

        var mount = Assert.Single(mounts);
        Assert.Equal("overlay", mount.Type);
        Assert.Contains(mount.Options, o => o.StartsWith("lowerdir=", StringComparison.Ordinal));
        Assert.Contains(mount.Options, o => o.StartsWith("upperdir=", StringComparison.Ordinal));
        Assert.Contains(mount.Options, o => o.StartsWith("workdir=", StringComparison.Ordinal));
        await using var mounted = await MountedSnapshot.MountAsync(_ctr, Snapshotter, "child", Fixture.Directory);
        Assert.Equal("from the parent", await File.ReadAllTextAsync(Path.Combine(mounted.Target, "hello.txt")));
        await File.WriteAllTextAsync(Path.Combine(mounted.Target, "hello.txt"), "changed in the child");
        Assert.Equal("changed in the child", await File.ReadAllTextAsync(Path.Combine(mounted.Target, "hello.txt")));
    }

    [Fact]
    public async Task Prepare_OnTwoCommittedLayers_StacksLowerdirsTopFirst()
    {
        await WriteCommittedAsync("l1", "a1", ("f.txt", "layer1"), ("only1.txt", "one"));
        await WriteCommittedAsync("l2", "a2", "l1", ("f.txt", "layer2"));

        await Fixture.CollectGarbageAsync();
        var mount = Assert.Single(CtrOutput.Mounts(await _ctr.SnapshotsOkAsync(Snapshotter, "view", "--mounts", "v", "l2")));

        Assert.Equal("overlay", mount.Type);
        string lower = Assert.Single(mount.Options, o => o.StartsWith("lowerdir=", StringComparison.Ordinal));
        Assert.Equal(2, lower["lowerdir=".Length..].Split(':').Length);
        Assert.DoesNotContain(mount.Options, o => o.StartsWith("upperdir=", StringComparison.Ordinal));
        await using var mounted = await MountedSnapshot.MountAsync(_ctr, Snapshotter, "v", Fixture.Directory);
        Assert.Equal("layer2", await File.ReadAllTextAsync(Path.Combine(mounted.Target, "f.txt")));
        Assert.Equal("one", await File.ReadAllTextAsync(Path.Combine(mounted.Target, "only1.txt")));
    }

    [Fact]
    public async Task View_OfCommitted_MountsReadOnly()
    {
        await WriteCommittedAsync("base", "a", ("x.txt", "x"));

        await Fixture.CollectGarbageAsync();
        var mount = Assert.Single(CtrOutput.Mounts(await _ctr.SnapshotsOkAsync(Snapshotter, "view", "--mounts", "v", "base")));

        Assert.Equal("bind", mount.Type);
        Assert.Contains("ro", mount.Options);
        await using var mounted = await MountedSnapshot.MountAsync(_ctr, Snapshotter, "v", Fixture.Directory);
        Assert.Equal("x", await File.ReadAllTextAsync(Path.Combine(mounted.Target, "x.txt")));
        var error = await Assert.ThrowsAsync<IOException>(() => File.WriteAllTextAsync(Path.Combine(mounted.Target, "new.txt"), "no"));
        Assert.Contains("Read-only", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Mounts_OfActive_PrintsMountCommandForTarget()
    {
        await _ctr.SnapshotsOkAsync(Snapshotter, "prepare", "a");

        string command = (await _ctr.SnapshotsOkAsync(Snapshotter, "mounts", "/some/target", "a")).Trim();

        Assert.StartsWith("mount -t bind ", command, StringComparison.Ordinal);
        Assert.Contains(" /some/target -o rw,rbind", command, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Commit_OfActive_CreatesCommittedSnapshotAndDropsActiveKey()
    {
        await _ctr.SnapshotsOkAsync(Snapshotter, "prepare", "p");
        await _ctr.SnapshotsOkAsync(Snapshotter, "commit", "parent", "p");
        await _ctr.SnapshotsOkAsync(Snapshotter, "prepare", "a", "parent");

        await _ctr.SnapshotsOkAsync(Snapshotter, "commit", "c", "a");

        var info = CtrOutput.Info(await _ctr.SnapshotsOkAsync(Snapshotter, "info", "c"));
        Assert.Equal("c", info.Name);
        Assert.Equal("parent", info.Parent);
        Assert.Equal("Committed", info.Kind);
        var gone = await _ctr.SnapshotsAsync(Snapshotter, "info", "a");
        Assert.NotEqual(0, gone.ExitCode);
        Assert.Contains("not found", gone.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Info_OfActiveWithParent_PrintsNameParentKindLabelsAndTimes()
    {
        var before = DateTimeOffset.UtcNow.AddMinutes(-1);
        await _ctr.SnapshotsOkAsync(Snapshotter, "prepare", "p");
        await _ctr.SnapshotsOkAsync(Snapshotter, "commit", "parent", "p");
        await _ctr.SnapshotsOkAsync(Snapshotter, "prepare", "a", "parent");

        var info = CtrOutput.Info(await _ctr.SnapshotsOkAsync(Snapshotter, "info", "a"));

        Assert.Equal("a", info.Name);
        Assert.Equal("parent", info.Parent);
        Assert.Equal("Active", info.Kind);
        Assert.True(info.Labels.ContainsKey("containerd.io/gc.root"), "ctr labels what it prepares with containerd.io/gc.root");
        Assert.InRange(info.Created, before, DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.True(info.Updated >= info.Created, $"Updated {info.Updated} before Created {info.Created}");
    }

    [Fact]
    public async Task Label_SetThenClearWithEmptyValue_UpdatesInfoLabels()
    {
        await _ctr.SnapshotsOkAsync(Snapshotter, "prepare", "a");

        string set = await _ctr.SnapshotsOkAsync(Snapshotter, "label", "a", "team=storage", "tier=gold");
        var afterSet = CtrOutput.Info(await _ctr.SnapshotsOkAsync(Snapshotter, "info", "a"));
        await _ctr.SnapshotsOkAsync(Snapshotter, "label", "a", "team=");
        var afterClear = CtrOutput.Info(await _ctr.SnapshotsOkAsync(Snapshotter, "info", "a"));

        Assert.Contains("team=storage", set, StringComparison.Ordinal);
        Assert.Contains("tier=gold", set, StringComparison.Ordinal);
        Assert.Equal("storage", afterSet.Labels["team"]);
        Assert.Equal("gold", afterSet.Labels["tier"]);
        Assert.False(afterClear.Labels.ContainsKey("team"), "label k= must delete k");
        Assert.Equal("gold", afterClear.Labels["tier"]);
        Assert.True(afterClear.Updated >= afterSet.Updated);
        Assert.True(afterSet.Updated >= afterSet.Created);
    }

    [Fact]
    public async Task Usage_AfterWritingIntoMountedActive_CountsBytesAndInodes()
    {
        await _ctr.SnapshotsOkAsync(Snapshotter, "prepare", "a");
        var empty = CtrOutput.Usage(await _ctr.SnapshotsOkAsync(Snapshotter, "usage", "-b", "a"))["a"];

        await using (var mounted = await MountedSnapshot.MountAsync(_ctr, Snapshotter, "a", Fixture.Directory))
        {
            var data = new byte[1 << 20];
            Random.Shared.NextBytes(data);
            await File.WriteAllBytesAsync(Path.Combine(mounted.Target, "big.bin"), data);
            Directory.CreateDirectory(Path.Combine(mounted.Target, "dir"));
            for (int i = 0; i < 10; i++)
            {
                await File.WriteAllTextAsync(Path.Combine(mounted.Target, "dir", $"f{i}.txt"), "small");
            }
        }

        var usage = CtrOutput.Usage(await _ctr.SnapshotsOkAsync(Snapshotter, "usage", "-b", "a"))["a"];

        // 1 MiB of data plus 11 small files and a directory (block and root-dir accounting differ by backend).
        Assert.InRange(usage.Size - empty.Size, 1 << 20, (1 << 20) + (1 << 20));
        Assert.InRange(usage.Inodes - empty.Inodes, 12, 14);
    }

    [Fact]
    public async Task Ls_AfterPrepareCommitView_ListsKeyParentAndKind()
    {
        await _ctr.SnapshotsOkAsync(Snapshotter, "prepare", "p");
        await _ctr.SnapshotsOkAsync(Snapshotter, "commit", "base", "p");
        await _ctr.SnapshotsOkAsync(Snapshotter, "prepare", "work", "base");
        await Fixture.CollectGarbageAsync();
        await _ctr.SnapshotsOkAsync(Snapshotter, "view", "look", "base");

        string stdout = await _ctr.SnapshotsOkAsync(Snapshotter, "ls");

        Assert.StartsWith("KEY", stdout, StringComparison.Ordinal);
        Assert.Equal(
            [new("base", "", "Committed"), new("look", "base", "View"), new("work", "base", "Active")],
            CtrOutput.Ls(stdout).OrderBy(r => r.Key, StringComparer.Ordinal).ToList());
    }

    [Fact]
    public async Task Tree_OfTwoBranches_IndentsChildrenUnderParent()
    {
        await _ctr.SnapshotsOkAsync(Snapshotter, "prepare", "p");
        await _ctr.SnapshotsOkAsync(Snapshotter, "commit", "root1", "p");
        await _ctr.SnapshotsOkAsync(Snapshotter, "prepare", "q", "root1");
        await _ctr.SnapshotsOkAsync(Snapshotter, "commit", "mid", "q");
        await _ctr.SnapshotsOkAsync(Snapshotter, "prepare", "leaf", "mid");

        string[] lines = (await _ctr.SnapshotsOkAsync(Snapshotter, "tree")).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal([" root1", "  \\_ mid", "    \\_ leaf"], lines);
    }

    [Fact]
    public async Task Rm_OfCommittedLeaf_RemovesItFromLsAndInfo()
    {
        await _ctr.SnapshotsOkAsync(Snapshotter, "prepare", "p");
        await _ctr.SnapshotsOkAsync(Snapshotter, "commit", "c", "p");
        await _ctr.SnapshotsOkAsync(Snapshotter, "prepare", "keep");

        await _ctr.SnapshotsOkAsync(Snapshotter, "rm", "c");

        Assert.Equal([new("keep", "", "Active")], CtrOutput.Ls(await _ctr.SnapshotsOkAsync(Snapshotter, "ls")));
        var info = await _ctr.SnapshotsAsync(Snapshotter, "info", "c");
        Assert.Equal(1, info.ExitCode);
        Assert.Contains("not found", info.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Prepare_ExistingKey_FailsWithAlreadyExists()
    {
        await _ctr.SnapshotsOkAsync(Snapshotter, "prepare", "dup");

        var result = await _ctr.SnapshotsAsync(Snapshotter, "prepare", "dup");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("\"dup\"", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("already exists", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Prepare_MissingParent_FailsWithNotFound()
    {
        var result = await _ctr.SnapshotsAsync(Snapshotter, "prepare", "orphan", "no-such-parent");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("no-such-parent", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("not found", result.StdErr, StringComparison.Ordinal);
        Assert.Empty(CtrOutput.Ls(await _ctr.SnapshotsOkAsync(Snapshotter, "ls")));
    }

    [Fact]
    public async Task Prepare_ActiveParent_FailsWithInvalidArgument()
    {
        await _ctr.SnapshotsOkAsync(Snapshotter, "prepare", "active-parent");

        var result = await _ctr.SnapshotsAsync(Snapshotter, "prepare", "child", "active-parent");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("active-parent", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("committed", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("invalid argument", result.StdErr, StringComparison.Ordinal);
        Assert.Equal([new("active-parent", "", "Active")], CtrOutput.Ls(await _ctr.SnapshotsOkAsync(Snapshotter, "ls")));
    }

    [Fact]
    public async Task Rm_SnapshotWithChildren_FailsWithFailedPrecondition()
    {
        await _ctr.SnapshotsOkAsync(Snapshotter, "prepare", "p");
        await _ctr.SnapshotsOkAsync(Snapshotter, "commit", "parent", "p");
        await _ctr.SnapshotsOkAsync(Snapshotter, "prepare", "child", "parent");

        var result = await _ctr.SnapshotsAsync(Snapshotter, "rm", "parent");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("\"parent\"", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("failed precondition", result.StdErr, StringComparison.Ordinal);
        Assert.Equal("Committed", CtrOutput.Info(await _ctr.SnapshotsOkAsync(Snapshotter, "info", "parent")).Kind);
    }

    [Fact]
    public async Task Commit_OfCommittedOrView_FailsWithFailedPrecondition()
    {
        await _ctr.SnapshotsOkAsync(Snapshotter, "prepare", "p");
        await _ctr.SnapshotsOkAsync(Snapshotter, "commit", "c", "p");
        await Fixture.CollectGarbageAsync();
        await _ctr.SnapshotsOkAsync(Snapshotter, "view", "v", "c");

        var ofCommitted = await _ctr.SnapshotsAsync(Snapshotter, "commit", "c2", "c");
        var ofView = await _ctr.SnapshotsAsync(Snapshotter, "commit", "c3", "v");

        foreach (var result in new[] { ofCommitted, ofView })
        {
            Assert.Equal(1, result.ExitCode);
            Assert.Contains("is not active", result.StdErr, StringComparison.Ordinal);
            Assert.Contains("failed precondition", result.StdErr, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Commit_ToExistingName_FailsWithAlreadyExists()
    {
        await _ctr.SnapshotsOkAsync(Snapshotter, "prepare", "p");
        await _ctr.SnapshotsOkAsync(Snapshotter, "commit", "taken", "p");
        await _ctr.SnapshotsOkAsync(Snapshotter, "prepare", "q");

        var result = await _ctr.SnapshotsAsync(Snapshotter, "commit", "taken", "q");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("already exists", result.StdErr, StringComparison.Ordinal);
        Assert.Equal("Active", CtrOutput.Info(await _ctr.SnapshotsOkAsync(Snapshotter, "info", "q")).Kind);
    }

    [Fact]
    public async Task Mounts_OfCommitted_FailsWithFailedPrecondition()
    {
        await _ctr.SnapshotsOkAsync(Snapshotter, "prepare", "p");
        await _ctr.SnapshotsOkAsync(Snapshotter, "commit", "c", "p");

        // containerd passes Mounts straight to the snapshotter: this error comes from our service.
        var result = await _ctr.SnapshotsAsync(Snapshotter, "mounts", "/target", "c");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("failed precondition", result.StdErr, StringComparison.Ordinal);
        Assert.Equal("", result.StdOut);
    }

    [Fact]
    public async Task LabelAndUsage_OfMissingKey_FailWithNotFound()
    {
        var label = await _ctr.SnapshotsAsync(Snapshotter, "label", "ghost", "a=b");
        var usage = await _ctr.SnapshotsAsync(Snapshotter, "usage", "ghost");

        foreach (var result in new[] { label, usage })
        {
            Assert.Equal(1, result.ExitCode);
            Assert.Contains("ghost", result.StdErr, StringComparison.Ordinal);
            Assert.Contains("not found", result.StdErr, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Info_MissingKey_FailsWithNotFound()
    {
        var result = await _ctr.SnapshotsAsync(Snapshotter, "info", "never-made");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("never-made", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("not found", result.StdErr, StringComparison.Ordinal);
        Assert.Equal("", result.StdOut);
    }

    /// <summary>Prepares <paramref name="activeKey"/> (on <paramref name="parent"/>), writes files into it through its real mount, commits it as <paramref name="name"/>.</summary>
    private async Task WriteCommittedAsync(string name, string activeKey, string? parent, params (string Path, string Content)[] files)
    {
        await _ctr.SnapshotsOkAsync(Snapshotter, parent is null ? ["prepare", activeKey] : ["prepare", activeKey, parent]);
        await using (var mounted = await MountedSnapshot.MountAsync(_ctr, Snapshotter, activeKey, Fixture.Directory))
        {
            foreach (var (path, content) in files)
            {
                await File.WriteAllTextAsync(Path.Combine(mounted.Target, path), content);
            }
        }

        await _ctr.SnapshotsOkAsync(Snapshotter, "commit", name, activeKey);
    }

    private Task WriteCommittedAsync(string name, string activeKey, params (string Path, string Content)[] files) =>
        WriteCommittedAsync(name, activeKey, null, files);
}
