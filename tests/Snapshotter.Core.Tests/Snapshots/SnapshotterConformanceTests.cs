using Snapshotter.Core.Snapshots;
using Snapshotter.Core.Tests.Interop;

namespace Snapshotter.Core.Tests.Snapshots;

/// <summary>
/// Behaviour every <see cref="ISnapshotter"/> backend must show (after containerd's snapshots/testsuite).
/// A backend's test class derives from this and supplies <see cref="OpenAsync"/>. Files are written straight
/// into the writable directory a mount names (the bind source or the overlay upperdir); the real-kernel
/// mount tests live with each backend.
/// </summary>
public abstract class SnapshotterConformanceTests : IAsyncLifetime
{
    private static readonly IReadOnlyDictionary<string, string> NoLabels = new Dictionary<string, string>();

    protected SnapshotterConformanceTests()
    {
        Root = Path.Combine(Path.GetTempPath(), "core-conformance-" + Guid.NewGuid().ToString("N"));
    }

    /// <summary>A fresh temporary root for this test.</summary>
    protected string Root { get; }

    private protected ISnapshotter Snapshotter { get; private set; } = null!;

    /// <summary>Opens the backend under test on <paramref name="root"/> (existing state must be kept).</summary>
    private protected abstract Task<ISnapshotter> OpenAsync(string root);

    /// <summary>Asserts the backend keeps no on-disk state beyond <paramref name="liveSnapshots"/> snapshots.</summary>
    protected abstract void AssertNoLeakedState(int liveSnapshots);

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Root);
        Snapshotter = await OpenAsync(Root);
    }

    public async Task DisposeAsync()
    {
        await Snapshotter.DisposeAsync();
        Directory.Delete(Root, recursive: true);
    }

    /// <summary>The directory a caller would write into for this active snapshot.</summary>
    protected static string WritableDir(IReadOnlyList<Mount> mounts)
    {
        var mount = Assert.Single(mounts);
        if (mount.Type == "bind")
        {
            Assert.Contains("rw", mount.Options);
            return mount.Source;
        }

        return Option(mount, "upperdir");
    }

    protected static string Option(Mount mount, string name)
    {
        var prefix = name + "=";
        var option = Assert.Single(mount.Options, o => o.StartsWith(prefix, StringComparison.Ordinal));
        return option[prefix.Length..];
    }

    /// <summary>Prepares, fills with <paramref name="files"/> and commits a layer.</summary>
    protected async Task CommitLayerAsync(string name, string parent, params string[] files)
    {
        var key = "extract-" + name;
        var dir = WritableDir(await Snapshotter.PrepareAsync(key, parent, NoLabels));
        foreach (var file in files)
        {
            await File.WriteAllTextAsync(Path.Combine(dir, file), name + ":" + file);
        }

        await Snapshotter.CommitAsync(name, key, NoLabels);
    }

    private static async Task<SnapshotterException> ThrowsKind(ErrorKind kind, Func<Task> action)
    {
        var e = await Assert.ThrowsAsync<SnapshotterException>(action);
        Assert.Equal(kind, e.Kind);
        return e;
    }

    private static Dictionary<string, string> Labels(params (string Key, string Value)[] pairs) =>
        pairs.ToDictionary(p => p.Key, p => p.Value);

    private async Task<List<SnapshotInfo>> ListAsync(params string[] filters)
    {
        var list = new List<SnapshotInfo>();
        await foreach (var info in Snapshotter.WalkAsync(SnapshotFilter.Parse(filters)))
        {
            list.Add(info);
        }

        return list;
    }

    [Fact]
    public async Task Prepare_NoParent_ReturnsWritableBindMount()
    {
        var mounts = await Snapshotter.PrepareAsync("a", "", NoLabels);

        var mount = Assert.Single(mounts);
        Assert.Equal("bind", mount.Type);
        Assert.Equal(["rw", "rbind"], mount.Options);
        Assert.True(Directory.Exists(mount.Source));
        Assert.Empty(Directory.EnumerateFileSystemEntries(mount.Source));
    }

    [Fact]
    public async Task View_NoParent_ReturnsReadOnlyBindMount()
    {
        var mount = Assert.Single(await Snapshotter.ViewAsync("v", "", NoLabels));

        Assert.Equal("bind", mount.Type);
        Assert.Equal(["ro", "rbind"], mount.Options);
        Assert.True(Directory.Exists(mount.Source));
    }

    [Fact]
    public async Task View_OneParent_BindsParentReadOnly()
    {
        await CommitLayerAsync("base", "", "f");

        var mount = Assert.Single(await Snapshotter.ViewAsync("v", "base", NoLabels));

        Assert.Equal("bind", mount.Type);
        Assert.Equal(["ro", "rbind"], mount.Options);
        Assert.Equal("base:f", await File.ReadAllTextAsync(Path.Combine(mount.Source, "f")));
    }

    [Fact]
    public async Task Prepare_ThreeParents_ReturnsOverlayWithNearestLowerFirst()
    {
        await CommitLayerAsync("l1", "", "one");
        await CommitLayerAsync("l2", "l1", "two");
        await CommitLayerAsync("l3", "l2", "three");

        var mount = Assert.Single(await Snapshotter.PrepareAsync("c", "l3", NoLabels));

        Assert.Equal("overlay", mount.Type);
        Assert.Equal("overlay", mount.Source);
        Assert.Equal(3, mount.Options.Count);
        Assert.StartsWith("workdir=", mount.Options[0]);
        Assert.StartsWith("upperdir=", mount.Options[1]);
        Assert.StartsWith("lowerdir=", mount.Options[2]);
        var lower = Option(mount, "lowerdir").Split(':');
        Assert.Equal(3, lower.Length);
        Assert.Equal("l3:three", await File.ReadAllTextAsync(Path.Combine(lower[0], "three")));
        Assert.Equal("l2:two", await File.ReadAllTextAsync(Path.Combine(lower[1], "two")));
        Assert.Equal("l1:one", await File.ReadAllTextAsync(Path.Combine(lower[2], "one")));
        Assert.True(Directory.Exists(Option(mount, "workdir")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Option(mount, "upperdir")));
    }

    [Fact]
    public async Task View_TwoParents_ReturnsOverlayWithLowerDirsOnly()
    {
        await CommitLayerAsync("l1", "", "one");
        await CommitLayerAsync("l2", "l1", "two");

        var mount = Assert.Single(await Snapshotter.ViewAsync("v", "l2", NoLabels));

        Assert.Equal("overlay", mount.Type);
        var option = Assert.Single(mount.Options);
        Assert.StartsWith("lowerdir=", option);
        var lower = Option(mount, "lowerdir").Split(':');
        Assert.Equal(2, lower.Length);
        Assert.True(File.Exists(Path.Combine(lower[0], "two")));
        Assert.True(File.Exists(Path.Combine(lower[1], "one")));
    }

    [Fact]
    public async Task Prepare_KeyTaken_ThrowsAlreadyExists()
    {
        await Snapshotter.PrepareAsync("a", "", NoLabels);

        var e = await ThrowsKind(ErrorKind.AlreadyExists, () => Snapshotter.PrepareAsync("a", "", NoLabels).AsTask());
        Assert.Equal("snapshot a: already exists", e.Message);
        await ThrowsKind(ErrorKind.AlreadyExists, () => Snapshotter.ViewAsync("a", "", NoLabels).AsTask());
    }

    [Fact]
    public async Task Prepare_KeyTakenByCommitted_ThrowsAlreadyExists()
    {
        await CommitLayerAsync("layer", "");

        await ThrowsKind(ErrorKind.AlreadyExists, () => Snapshotter.PrepareAsync("layer", "", NoLabels).AsTask());
    }

    [Fact]
    public async Task Prepare_ParentMissing_ThrowsNotFound()
    {
        var e = await ThrowsKind(ErrorKind.NotFound, () => Snapshotter.PrepareAsync("a", "nope", NoLabels).AsTask());
        Assert.Contains("nope", e.Message);
        await ThrowsKind(ErrorKind.NotFound, () => Snapshotter.ViewAsync("v", "nope", NoLabels).AsTask());
        await ThrowsKind(ErrorKind.NotFound, () => Snapshotter.StatAsync("a").AsTask());
    }

    [Fact]
    public async Task Prepare_ParentNotCommitted_ThrowsInvalidArgument()
    {
        await Snapshotter.PrepareAsync("active", "", NoLabels);
        await Snapshotter.ViewAsync("view", "", NoLabels);

        var e = await ThrowsKind(ErrorKind.InvalidArgument, () => Snapshotter.PrepareAsync("a", "active", NoLabels).AsTask());
        Assert.Equal("parent active is not a committed snapshot", e.Message);
        await ThrowsKind(ErrorKind.InvalidArgument, () => Snapshotter.ViewAsync("b", "view", NoLabels).AsTask());
        await ThrowsKind(ErrorKind.NotFound, () => Snapshotter.StatAsync("a").AsTask());
    }

    [Fact]
    public async Task Prepare_LabelOverMaximumSize_ThrowsInvalidArgument()
    {
        var fits = Labels(("k", new string('v', 4095)));
        var tooBig = Labels(("k", new string('v', 4096)));

        await Snapshotter.PrepareAsync("ok", "", fits);
        var e = await ThrowsKind(ErrorKind.InvalidArgument, () => Snapshotter.PrepareAsync("big", "", tooBig).AsTask());
        Assert.Contains("4096", e.Message);
        await ThrowsKind(ErrorKind.NotFound, () => Snapshotter.StatAsync("big").AsTask());
        Assert.Equal(4095, (await Snapshotter.StatAsync("ok")).Labels["k"].Length);
    }

    [Fact]
    public async Task Prepare_EmptyKey_ThrowsInvalidArgument()
    {
        await ThrowsKind(ErrorKind.InvalidArgument, () => Snapshotter.PrepareAsync("", "", NoLabels).AsTask());
    }

    [Fact]
    public async Task Stat_Active_ReturnsKindParentLabelsAndUtcTimes()
    {
        await CommitLayerAsync("base", "");
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);

        await Snapshotter.PrepareAsync("a", "base", Labels(("x", "1")));
        var info = await Snapshotter.StatAsync("a");

        Assert.Equal("a", info.Name);
        Assert.Equal("base", info.Parent);
        Assert.Equal(SnapshotKind.Active, info.Kind);
        Assert.Equal("1", Assert.Single(info.Labels).Value);
        Assert.Equal(TimeSpan.Zero, info.CreatedAt.Offset);
        Assert.InRange(info.CreatedAt, before, DateTimeOffset.UtcNow.AddSeconds(1));
        Assert.Equal(info.CreatedAt, info.UpdatedAt);
        Assert.Equal(string.Empty, (await Snapshotter.StatAsync("base")).Parent);
    }

    [Fact]
    public async Task Stat_Missing_ThrowsNotFound()
    {
        var e = await ThrowsKind(ErrorKind.NotFound, () => Snapshotter.StatAsync("missing").AsTask());
        Assert.Contains("missing", e.Message);
    }

    [Fact]
    public async Task Mounts_Active_MatchesPrepare()
    {
        await CommitLayerAsync("base", "");
        var prepared = await Snapshotter.PrepareAsync("a", "base", NoLabels);
        var viewed = await Snapshotter.ViewAsync("v", "base", NoLabels);

        var mounts = await Snapshotter.MountsAsync("a");
        var viewMounts = await Snapshotter.MountsAsync("v");

        Assert.Equal(prepared.Single().Type, mounts.Single().Type);
        Assert.Equal(prepared.Single().Source, mounts.Single().Source);
        Assert.Equal(prepared.Single().Options, mounts.Single().Options);
        Assert.Equal(viewed.Single().Options, viewMounts.Single().Options);
        Assert.Equal(viewed.Single().Source, viewMounts.Single().Source);
    }

    [Fact]
    public async Task Mounts_Committed_ThrowsFailedPrecondition()
    {
        await CommitLayerAsync("layer", "");

        await ThrowsKind(ErrorKind.FailedPrecondition, () => Snapshotter.MountsAsync("layer").AsTask());
        await ThrowsKind(ErrorKind.NotFound, () => Snapshotter.MountsAsync("nope").AsTask());
    }

    [Fact]
    public async Task Commit_Active_BecomesCommittedWithNewLabelsAndKeyIsGone()
    {
        await CommitLayerAsync("base", "", "f");
        var dir = WritableDir(await Snapshotter.PrepareAsync("a", "base", Labels(("old", "1"))));
        await File.WriteAllTextAsync(Path.Combine(dir, "g"), "g");
        var prepared = await Snapshotter.StatAsync("a");
        await Task.Delay(20);

        var before = DateTimeOffset.UtcNow;
        await Snapshotter.CommitAsync("layer", "a", Labels(("new", "2")));
        var after = DateTimeOffset.UtcNow;

        await ThrowsKind(ErrorKind.NotFound, () => Snapshotter.StatAsync("a").AsTask());
        var info = await Snapshotter.StatAsync("layer");
        Assert.Equal(SnapshotKind.Committed, info.Kind);
        Assert.Equal("base", info.Parent);
        Assert.Equal(Labels(("new", "2")), info.Labels);

        // containerd's storage: a committed snapshot is created at the commit, created == updated.
        Assert.Equal(info.CreatedAt, info.UpdatedAt);
        Assert.InRange(info.CreatedAt, before.AddMilliseconds(-1), after.AddMilliseconds(1));
        Assert.True(info.CreatedAt > prepared.CreatedAt);

        var lower = Option(Assert.Single(await Snapshotter.PrepareAsync("child", "layer", NoLabels)), "lowerdir").Split(':');
        Assert.Equal("g", await File.ReadAllTextAsync(Path.Combine(lower[0], "g")));
        Assert.Equal("base:f", await File.ReadAllTextAsync(Path.Combine(lower[1], "f")));
    }

    [Fact]
    public async Task Commit_KeyMissing_ThrowsNotFound()
    {
        await ThrowsKind(ErrorKind.NotFound, () => Snapshotter.CommitAsync("n", "missing", NoLabels).AsTask());
    }

    [Fact]
    public async Task Commit_ViewOrCommitted_ThrowsFailedPrecondition()
    {
        await Snapshotter.ViewAsync("v", "", NoLabels);
        await CommitLayerAsync("layer", "");

        await ThrowsKind(ErrorKind.FailedPrecondition, () => Snapshotter.CommitAsync("n", "v", NoLabels).AsTask());
        await ThrowsKind(ErrorKind.FailedPrecondition, () => Snapshotter.CommitAsync("n", "layer", NoLabels).AsTask());
        await ThrowsKind(ErrorKind.NotFound, () => Snapshotter.StatAsync("n").AsTask());
    }

    [Fact]
    public async Task Commit_NameTaken_ThrowsAlreadyExistsAndKeepsActive()
    {
        await CommitLayerAsync("layer", "");
        await Snapshotter.PrepareAsync("a", "", NoLabels);

        await ThrowsKind(ErrorKind.AlreadyExists, () => Snapshotter.CommitAsync("layer", "a", NoLabels).AsTask());
        Assert.Equal(SnapshotKind.Active, (await Snapshotter.StatAsync("a")).Kind);
    }

    [Fact]
    public async Task Commit_LabelOverMaximumSize_ThrowsInvalidArgumentAndKeepsActive()
    {
        await Snapshotter.PrepareAsync("a", "", NoLabels);

        await ThrowsKind(ErrorKind.InvalidArgument, () => Snapshotter.CommitAsync("n", "a", Labels((new string('k', 4000), new string('v', 100)))).AsTask());
        Assert.Equal(SnapshotKind.Active, (await Snapshotter.StatAsync("a")).Kind);
    }

    [Fact]
    public async Task Remove_EachKind_SnapshotIsGone()
    {
        await CommitLayerAsync("layer", "");
        await Snapshotter.PrepareAsync("a", "layer", NoLabels);
        await Snapshotter.ViewAsync("v", "layer", NoLabels);

        await Snapshotter.RemoveAsync("a");
        await Snapshotter.RemoveAsync("v");
        await Snapshotter.RemoveAsync("layer");

        Assert.Empty(await ListAsync());
        await ThrowsKind(ErrorKind.NotFound, () => Snapshotter.StatAsync("layer").AsTask());
        AssertNoLeakedState(0);
    }

    [Fact]
    public async Task Remove_Missing_ThrowsNotFound()
    {
        await ThrowsKind(ErrorKind.NotFound, () => Snapshotter.RemoveAsync("missing").AsTask());
    }

    [Fact]
    public async Task Remove_WithChild_ThrowsFailedPrecondition()
    {
        await CommitLayerAsync("layer", "");
        await Snapshotter.ViewAsync("v", "layer", NoLabels);

        var e = await ThrowsKind(ErrorKind.FailedPrecondition, () => Snapshotter.RemoveAsync("layer").AsTask());
        Assert.StartsWith("cannot remove snapshot with child", e.Message);
        await Snapshotter.RemoveAsync("v");
        await Snapshotter.RemoveAsync("layer");
    }

    [Fact]
    public async Task Remove_ThenPrepareSameKey_GivesEmptySnapshot()
    {
        var dir = WritableDir(await Snapshotter.PrepareAsync("a", "", NoLabels));
        await File.WriteAllTextAsync(Path.Combine(dir, "f"), "x");
        await Snapshotter.RemoveAsync("a");

        var again = WritableDir(await Snapshotter.PrepareAsync("a", "", NoLabels));

        Assert.Empty(Directory.EnumerateFileSystemEntries(again));
    }

    [Fact]
    public async Task Update_LabelsPath_ReplacesAllLabels()
    {
        await Snapshotter.PrepareAsync("a", "", Labels(("x", "1"), ("y", "2")));
        var before = await Snapshotter.StatAsync("a");
        await Task.Delay(2);

        var updated = await Snapshotter.UpdateAsync(before with { Labels = Labels(("z", "3")) }, ["labels"]);

        Assert.Equal(Labels(("z", "3")), updated.Labels);
        Assert.True(updated.UpdatedAt > before.UpdatedAt);
        Assert.Equal(before.CreatedAt, updated.CreatedAt);
        Assert.Equal(updated.Labels, (await Snapshotter.StatAsync("a")).Labels);
    }

    [Fact]
    public async Task Update_NoPaths_ReplacesAllLabels()
    {
        await Snapshotter.PrepareAsync("a", "", Labels(("x", "1")));

        var updated = await Snapshotter.UpdateAsync((await Snapshotter.StatAsync("a")) with { Labels = Labels(("y", "2")) }, []);

        Assert.Equal(Labels(("y", "2")), updated.Labels);
    }

    [Fact]
    public async Task Update_LabelKeyPaths_SetsAndDeletesOnlyThoseKeys()
    {
        await CommitLayerAsync("layer", "");
        var info = await Snapshotter.UpdateAsync((await Snapshotter.StatAsync("layer")) with { Labels = Labels(("keep", "k"), ("drop", "d"), ("empty", "e")) }, []);

        var updated = await Snapshotter.UpdateAsync(
            info with { Labels = Labels(("set", "s"), ("empty", ""), ("ignored", "i")) },
            ["labels.set", "labels.drop", "labels.empty"]);

        Assert.Equal(Labels(("keep", "k"), ("set", "s")), updated.Labels);
        Assert.Equal(SnapshotKind.Committed, updated.Kind);
    }

    [Theory]
    [InlineData("name")]
    [InlineData("parent")]
    [InlineData("kind")]
    [InlineData("labels.")]
    public async Task Update_OtherField_ThrowsInvalidArgumentNamingIt(string path)
    {
        await Snapshotter.PrepareAsync("a", "", Labels(("x", "1")));

        var info = (await Snapshotter.StatAsync("a")) with { Labels = NoLabels };

        var e = await ThrowsKind(ErrorKind.InvalidArgument, () => Snapshotter.UpdateAsync(info, ["labels", path]).AsTask());
        Assert.Contains(path, e.Message);
        Assert.Equal(Labels(("x", "1")), (await Snapshotter.StatAsync("a")).Labels);
    }

    [Fact]
    public async Task Update_Missing_ThrowsNotFound()
    {
        var info = new SnapshotInfo("missing", "", SnapshotKind.Active, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, NoLabels);

        await ThrowsKind(ErrorKind.NotFound, () => Snapshotter.UpdateAsync(info, ["labels"]).AsTask());
    }

    [Fact]
    public async Task Update_LabelOverMaximumSize_ThrowsInvalidArgument()
    {
        await Snapshotter.PrepareAsync("a", "", NoLabels);
        var info = (await Snapshotter.StatAsync("a")) with { Labels = Labels(("k", new string('v', 5000))) };

        await ThrowsKind(ErrorKind.InvalidArgument, () => Snapshotter.UpdateAsync(info, ["labels.k"]).AsTask());
        Assert.Empty((await Snapshotter.StatAsync("a")).Labels);
    }

    [Fact]
    public async Task Walk_Filters_ReturnMatchingSnapshotsOnly()
    {
        await CommitLayerAsync("l1", "");
        await Snapshotter.UpdateAsync((await Snapshotter.StatAsync("l1")) with { Labels = Labels(("containerd.io/snapshot.ref", "l1")) }, []);
        await CommitLayerAsync("l2", "l1");
        await Snapshotter.PrepareAsync("a", "l2", Labels(("team", "red")));
        await Snapshotter.ViewAsync("v", "l1", NoLabels);

        Assert.Equal(["a", "l1", "l2", "v"], (await ListAsync()).Select(i => i.Name).Order());
        Assert.Equal(["l1", "l2"], (await ListAsync("kind==committed")).Select(i => i.Name).Order());
        Assert.Equal(["l1"], (await ListAsync("labels.\"containerd.io/snapshot.ref\"==l1,parent==\"\"")).Select(i => i.Name));
        Assert.Empty(await ListAsync("labels.\"containerd.io/snapshot.ref\"==l1,parent==\"l2\""));
        Assert.Equal(["a", "v"], (await ListAsync("kind==active", "kind==view")).Select(i => i.Name).Order());
        Assert.Equal(["l2", "v"], (await ListAsync("parent==l1")).Select(i => i.Name).Order());
        Assert.Equal(["a"], (await ListAsync("labels.team")).Select(i => i.Name));
        var a = Assert.Single(await ListAsync("name==a"));
        Assert.Equal(await Snapshotter.StatAsync("a"), a with { Labels = a.Labels }, new InfoComparer());
    }

    [Fact]
    public async Task Walk_MoreThanOneBatch_ReturnsEverySnapshotOnce()
    {
        for (var i = 0; i < 250; i++)
        {
            await Snapshotter.PrepareAsync($"s{i:D3}", "", Labels(("i", i.ToString(System.Globalization.CultureInfo.InvariantCulture))));
        }

        var all = await ListAsync();

        Assert.Equal(250, all.Count);
        Assert.Equal(250, all.Select(i => i.Name).Distinct().Count());
        Assert.All(all, info => Assert.Equal(info.Name[1..].TrimStart('0').PadLeft(1, '0'), info.Labels["i"]));
    }

    [Fact]
    public async Task Walk_CancelledToken_Throws()
    {
        await Snapshotter.PrepareAsync("a", "", NoLabels);
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in Snapshotter.WalkAsync(SnapshotFilter.All, cts.Token))
            {
            }
        });
    }

    [Fact]
    public async Task Usage_ActiveAfterWritingFiles_CountsBytesAndInodes()
    {
        var dir = WritableDir(await Snapshotter.PrepareAsync("a", "", NoLabels));
        var empty = await Snapshotter.UsageAsync("a");
        await File.WriteAllBytesAsync(Path.Combine(dir, "big"), RandomBytes(1 << 20));
        Directory.CreateDirectory(Path.Combine(dir, "d"));
        for (var i = 0; i < 10; i++)
        {
            await File.WriteAllTextAsync(Path.Combine(dir, "d", $"f{i}"), "data");
        }

        var usage = await Snapshotter.UsageAsync("a");

        Assert.Equal(1, empty.Inodes);
        Assert.True(usage.Size >= (1 << 20), $"size {usage.Size}");
        Assert.Equal(1 + 1 + 1 + 10, usage.Inodes);
    }

    [Fact]
    public async Task Usage_HardLink_CountedOnce()
    {
        var dir = WritableDir(await Snapshotter.PrepareAsync("a", "", NoLabels));
        await File.WriteAllBytesAsync(Path.Combine(dir, "big"), RandomBytes(1 << 20));
        var single = await Snapshotter.UsageAsync("a");

        TestLibc.Link(Path.Combine(dir, "big"), Path.Combine(dir, "link"));
        File.CreateSymbolicLink(Path.Combine(dir, "sym"), "/usr");
        var linked = await Snapshotter.UsageAsync("a");

        Assert.Equal(2, single.Inodes);
        Assert.Equal(3, linked.Inodes);
        Assert.InRange(linked.Size, single.Size, single.Size + 4096);
    }

    [Fact]
    public async Task Usage_Committed_ReturnsValueStoredAtCommit()
    {
        var dir = WritableDir(await Snapshotter.PrepareAsync("a", "", NoLabels));
        await File.WriteAllBytesAsync(Path.Combine(dir, "big"), RandomBytes(1 << 20));
        var active = await Snapshotter.UsageAsync("a");
        await Snapshotter.CommitAsync("layer", "a", NoLabels);

        // Changing a committed layer behind the snapshotter's back must not change its recorded usage.
        await File.WriteAllBytesAsync(Path.Combine(dir, "more"), RandomBytes(1 << 16));
        var committed = await Snapshotter.UsageAsync("layer");

        Assert.Equal(active, committed);
        await ThrowsKind(ErrorKind.NotFound, () => Snapshotter.UsageAsync("a").AsTask());
    }

    [Fact]
    public async Task Reopen_SameRoot_SeesEverySnapshot()
    {
        await CommitLayerAsync("l1", "", "f");
        await Snapshotter.PrepareAsync("a", "l1", Labels(("x", "1")));
        await Snapshotter.ViewAsync("v", "l1", NoLabels);
        var infos = (await ListAsync()).OrderBy(i => i.Name).ToList();
        var mounts = await Snapshotter.MountsAsync("a");
        var usage = await Snapshotter.UsageAsync("l1");

        await Snapshotter.DisposeAsync();
        Snapshotter = await OpenAsync(Root);

        var reopened = (await ListAsync()).OrderBy(i => i.Name).ToList();
        Assert.Equal(infos.Count, reopened.Count);
        for (var i = 0; i < infos.Count; i++)
        {
            Assert.Equal(infos[i], reopened[i], new InfoComparer());
        }

        Assert.Equal(mounts.Single().Options, (await Snapshotter.MountsAsync("a")).Single().Options);
        Assert.Equal(usage, await Snapshotter.UsageAsync("l1"));
        await Snapshotter.CommitAsync("l2", "a", NoLabels);
        Assert.Equal("l1", (await Snapshotter.StatAsync("l2")).Parent);
    }

    [Fact]
    public async Task Cleanup_AfterOrdinaryWork_KeepsEverySnapshotIntact()
    {
        await CommitLayerAsync("l1", "", "f");
        var dir = WritableDir(await Snapshotter.PrepareAsync("a", "l1", NoLabels));
        await File.WriteAllTextAsync(Path.Combine(dir, "g"), "g");
        await Snapshotter.ViewAsync("v", "l1", NoLabels);
        await CommitLayerAsync("gone", "");
        await Snapshotter.RemoveAsync("gone");

        await Snapshotter.CleanupAsync();

        Assert.Equal(3, (await ListAsync()).Count);
        Assert.Equal("g", await File.ReadAllTextAsync(Path.Combine(dir, "g")));
        var lower = Option((await Snapshotter.MountsAsync("a")).Single(), "lowerdir");
        Assert.Equal("l1:f", await File.ReadAllTextAsync(Path.Combine(lower, "f")));
        AssertNoLeakedState(3);
    }

    [Fact]
    public async Task ConcurrentCallers_PrepareCommitRemoveLoops_NoErrorsNoLeaks()
    {
        await CommitLayerAsync("base", "", "f");
        const int Workers = 32;
        const int Rounds = 4;

        var workers = Enumerable.Range(0, Workers).Select(w => Task.Run(async () =>
        {
            for (var r = 0; r < Rounds; r++)
            {
                var key = $"w{w}-r{r}";
                var dir = WritableDir(await Snapshotter.PrepareAsync(key, "base", Labels(("worker", w.ToString(System.Globalization.CultureInfo.InvariantCulture)))));
                await File.WriteAllTextAsync(Path.Combine(dir, "x"), key);
                await Snapshotter.CommitAsync(key + "-c", key, NoLabels);
                await Snapshotter.ViewAsync(key + "-v", key + "-c", NoLabels);
                _ = await Snapshotter.UsageAsync(key + "-c");
                await foreach (var _ in Snapshotter.WalkAsync(SnapshotFilter.Parse([$"parent=={key}-c"])))
                {
                }

                await Snapshotter.RemoveAsync(key + "-v");
                await Snapshotter.RemoveAsync(key + "-c");
            }
        })).ToArray();
        await Task.WhenAll(workers);

        Assert.Equal(["base"], (await ListAsync()).Select(i => i.Name));
        AssertNoLeakedState(1);
    }

    private static byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        Random.Shared.NextBytes(bytes);
        return bytes;
    }

    /// <summary>SnapshotInfo's record equality compares the label dictionaries by reference; compare contents.</summary>
    private sealed class InfoComparer : IEqualityComparer<SnapshotInfo>
    {
        public bool Equals(SnapshotInfo? x, SnapshotInfo? y) =>
            x is not null && y is not null && x.Name == y.Name && x.Parent == y.Parent && x.Kind == y.Kind &&
            x.CreatedAt == y.CreatedAt && x.UpdatedAt == y.UpdatedAt &&
            x.Labels.Count == y.Labels.Count && x.Labels.All(l => y.Labels.TryGetValue(l.Key, out var v) && v == l.Value);

        public int GetHashCode(SnapshotInfo obj) => obj.Name.GetHashCode(StringComparison.Ordinal);
    }
}
