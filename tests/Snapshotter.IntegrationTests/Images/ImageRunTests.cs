using Snapshotter.IntegrationTests.Fixtures;
using Xunit.Abstractions;

namespace Snapshotter.IntegrationTests.Images;

/// <summary>
/// <c>ctr images import --snapshotter lazy</c> of the locally built multi-layer image, then real
/// containers (<c>ctr run --rm --snapshotter lazy</c>, runc) on the unpacked layers.
/// </summary>
[Collection(IntegrationCollection.Name)]
public sealed class ImageRunTests : IntegrationTest, IClassFixture<ContainerdFixture>
{
    private readonly TestImage _image;
    private readonly Ctr _ctr;

    public ImageRunTests(ContainerdFixture fixture, TestImage image, ITestOutputHelper output)
        : base(fixture, output)
    {
        _image = image;
        _ctr = fixture.Ctr(fixture.NewNamespace("img"));
    }

    [Fact]
    public async Task Import_MultiLayerImage_CommitsOneSnapshotPerLayerInAChain()
    {
        var result = (await _ctr.RunAsync("images", "import", "--base-name", TestImage.BaseName, "--snapshotter", Snapshotter, _image.ArchivePath)).EnsureSuccess();

        Assert.Contains($"unpacking {TestImage.Reference}", result.StdOut, StringComparison.Ordinal);
        var rows = CtrOutput.Ls(await _ctr.SnapshotsOkAsync(Snapshotter, "ls"));
        Assert.Equal(TestImage.LayerCount, rows.Count);
        Assert.All(rows, r => Assert.Equal("Committed", r.Kind));
        Assert.All(rows, r => Assert.StartsWith("sha256:", r.Key, StringComparison.Ordinal));
        // A chain: exactly one root, every other layer's parent is another layer.
        Assert.Single(rows, r => r.Parent == "");
        Assert.All(rows.Where(r => r.Parent != ""), r => Assert.Contains(rows, p => p.Key == r.Parent));
        Assert.Contains(TestImage.Reference, (await _ctr.RunAsync("images", "ls", "-q")).EnsureSuccess().StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_ImageDefaultCommand_PrintsItsOutput()
    {
        await ImportAsync();

        var result = await RunContainerAsync();

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(TestImage.CommandOutput, result.StdOut.Trim());
    }

    [Fact]
    public async Task Run_Cat_SeesReplacedAddedAndOpaqueDirContents()
    {
        await ImportAsync();

        foreach (var (path, content) in TestImage.ExpectedFiles)
        {
            var result = await RunContainerAsync("cat", path);

            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Equal(content, result.StdOut.Trim());
        }
    }

    [Fact]
    public async Task Run_Ls_ShowsWhiteoutsAndOpaqueDirApplied()
    {
        await ImportAsync();

        var data = await RunContainerAsync("ls", "-a", "/data");
        var opq = await RunContainerAsync("ls", "-a", "/opq");
        var root = await RunContainerAsync("ls", "/");

        Assert.Equal([".", "..", "added.txt", "keep.txt", "replace.txt"], Lines(data));
        Assert.Equal([".", "..", "new.txt"], Lines(opq));
        Assert.DoesNotContain("deldir", Lines(root));
        foreach (string deleted in TestImage.DeletedPaths)
        {
            var test = await RunContainerAsync("test", "-e", deleted);
            Assert.True(test.ExitCode == 1, $"{deleted} should be gone in the container: {test}");
        }
    }

    [Fact]
    public async Task Run_ContainerWrites_DoNotLeakIntoImageOrNextContainer()
    {
        await ImportAsync();

        var write = await RunContainerAsync("sh", "-c", "echo scribbled > /data/keep.txt && rm /data/added.txt && cat /data/keep.txt");
        var next = await RunContainerAsync("cat", "/data/keep.txt", "/data/added.txt");

        Assert.Equal("scribbled", write.StdOut.Trim());
        Assert.True(next.ExitCode == 0, next.ToString());
        Assert.Equal(["keep-v1", "added-v2"], Lines(next));
        // --rm removed each container's active snapshot: only the image's layers remain.
        Assert.All(CtrOutput.Ls(await _ctr.SnapshotsOkAsync(Snapshotter, "ls")), r => Assert.Equal("Committed", r.Kind));
    }

    [Fact]
    public async Task Usage_OfImageLayers_CountsWhatEachLayerAdded()
    {
        await ImportAsync();
        var rows = CtrOutput.Ls(await _ctr.SnapshotsOkAsync(Snapshotter, "ls"));
        string bottom = rows.Single(r => r.Parent == "").Key;
        string middle = rows.Single(r => r.Parent == bottom).Key;

        var usage = CtrOutput.Usage(await _ctr.SnapshotsOkAsync(Snapshotter, "usage", "-b", bottom, middle));

        // The bottom layer holds the static busybox binary; the middle one only two small files and whiteouts.
        long busybox = new FileInfo(Tools.RequireStaticBusybox()).Length;
        Assert.InRange(usage[bottom].Size, busybox, busybox + (1 << 20));
        Assert.InRange(usage[bottom].Inodes, 15, 40);
        Assert.InRange(usage[middle].Size, 1, 256 << 10);
        Assert.InRange(usage[middle].Inodes, 2, 10);
    }

    [Fact]
    public async Task Run_SeveralContainers_LeaveNoSnapshotDirectoriesAfterGc()
    {
        var ours = Fixture.RequireSnapshotter();
        await ImportAsync();
        for (int i = 0; i < 3; i++)
        {
            var r = await RunContainerAsync("sh", "-c", "echo data > /tmp/f && cat /tmp/f");
            Assert.True(r.ExitCode == 0 && r.StdOut.Trim() == "data", r.ToString());
        }

        await Fixture.CollectGarbageAsync();

        // Every snapshot of every namespace of this containerd has exactly one directory, nothing more.
        int snapshots = await Fixture.CountAllSnapshotsAsync();
        string[] dirs = Directory.GetDirectories(Path.Combine(ours.Root, "snapshots"));
        Assert.True(snapshots == dirs.Length, $"{snapshots} snapshots listed but {dirs.Length} directories: {string.Join(", ", dirs.Select(Path.GetFileName))}");
        Assert.Empty(Mounts.Under(ours.Root));
    }

    private async Task ImportAsync() =>
        (await _ctr.RunAsync("images", "import", "--base-name", TestImage.BaseName, "--snapshotter", Snapshotter, _image.ArchivePath)).EnsureSuccess();

    private Task<ProcessResult> RunContainerAsync(params string[] command)
    {
        string id = "c-" + Guid.NewGuid().ToString("N")[..12];
        return command.Length == 0
            ? _ctr.RunAsync(["run", "--rm", "--snapshotter", Snapshotter, TestImage.Reference, id])
            : _ctr.RunContainerAsync(ProcessRunner.DefaultTimeout, Snapshotter, TestImage.Reference, id, command);
    }

    private static string[] Lines(ProcessResult result) => result.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
