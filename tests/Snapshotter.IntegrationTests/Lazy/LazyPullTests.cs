using Snapshotter.Erofs.Conversion;
using Snapshotter.IntegrationTests.Fixtures;
using Xunit.Abstractions;
using Snapshotter.Oci;

namespace Snapshotter.IntegrationTests.Lazy;

/// <summary>
/// Host-tier acceptance of lazy pulling through containerd (issues 10 and 11), run once per lazy mode by the derived
/// classes: real containerd 1.6 + runc + docker-registry, our <c>serve</c> as the proxy plugin <c>nydus</c>, the converted
/// <see cref="LazyTestImage"/> pulled with <c>ctr-remote images rpull</c> and with CRI <c>PullImage</c>, containers run
/// with <c>ctr run</c>. What the registry served is counted from its own access log.
/// </summary>
public abstract partial class LazyPullTests : IntegrationTest, IAsyncLifetime
{
    /// <summary>User agent prefix of our service's registry client (containerd's is <c>containerd/</c>).</summary>
    protected const string ServeAgent = "snapshotter-registry/";

    protected const string ContainerdAgent = "containerd/";

    private static readonly TimeSpan PullTimeout = TimeSpan.FromMinutes(5);
    private readonly List<Ctr> _namespaces = [];
    private readonly List<string> _criImages = [];
    private readonly int _registryMark;

    protected LazyPullTests(LazyContainerdFixture fixture, ITestOutputHelper output)
        : base(fixture.Containerd, output)
    {
        Lazy = fixture;
        _registryMark = fixture.Images.Registry.Mark();
    }

    protected LazyContainerdFixture Lazy { get; }

    protected LazyImages Images => Lazy.Images;

    protected TestRegistry Registry => Images.Registry;

    [Fact]
    public async Task Rpull_LazyImage_CommitsDataLayersRemotelyAndContainerSeesEveryFile()
    {
        var ctr = NewCtr("rpull");
        int mark = Registry.Mark();
        int logMark = Lazy.Snapshotter.LogLineCount;

        (await RpullAsync(ctr, Images.LazyReference)).EnsureSuccess();

        await AssertPulledLazilyAsync(ctr, Images.Lazy, mark, logMark);
        var run = await RunAsync(ctr, Images.LazyReference);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(LazyTestImage.CommandOutput, run.StdOut.Trim());
        await AssertTreeAsync(ctr, Images.LazyReference);
    }

    [Fact]
    public async Task CriPullImage_LazyImage_CommitsDataLayersRemotelyAndContainerSeesEveryFile()
    {
        var ctr = CriCtr();
        int mark = Registry.Mark();
        int logMark = Lazy.Snapshotter.LogLineCount;

        string imageId = await CriPullAsync(Images.LazyReference);

        using (var cri = Lazy.Cri())
        {
            var status = await cri.StatusAsync(Images.LazyReference);
            Assert.NotNull(status);
            Assert.Equal(imageId, status.Id);
            Assert.Contains(Images.LazyReference, status.RepoTags);
        }

        await AssertPulledLazilyAsync(ctr, Images.Lazy, mark, logMark);
        var run = await RunAsync(ctr, Images.LazyReference);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(LazyTestImage.CommandOutput, run.StdOut.Trim());
        await AssertTreeAsync(ctr, Images.LazyReference);
    }

    [Fact]
    public async Task Run_OneSmallFileOfColdLazyImage_RegistryServesOnlyWhatTheModeNeeds()
    {
        var ctr = NewCtr("cold");
        int mark = Registry.Mark();

        (await RpullAsync(ctr, Images.ColdReference)).EnsureSuccess();
        var run = await RunAsync(ctr, Images.ColdReference, "/bin/busybox", "cat", LazyTestImage.SmallFile);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(LazyTestImage.SmallFileContent, run.StdOut.Trim());
        var blobs = Images.Cold.DataBlobs;
        var byContainerd = Registry.BlobBytesSince(mark, ContainerdAgent);
        Assert.All(blobs, b => Assert.False(byContainerd.ContainsKey(b.Digest), $"containerd downloaded data blob {b.Digest}"));
        var byServe = Registry.BlobBytesSince(mark, ServeAgent);
        var served = blobs.ToDictionary(b => b.Digest, b => byServe.GetValueOrDefault(b.Digest), StringComparer.Ordinal);
        long total = blobs.Sum(b => b.Size);
        Output.WriteLine($"[{Lazy.LazyMode}] registry served {served.Values.Sum()} of {total} data blob bytes ({100.0 * served.Values.Sum() / total:F2}%) " +
            $"to read {LazyTestImage.SmallFile}: {string.Join(", ", blobs.Select(b => $"{b.Digest[7..19]} {served[b.Digest]}/{b.Size}"))}");
        AssertColdReadTraffic(served, blobs);
    }

    [Fact]
    public async Task PullAndRun_OrdinaryOciImage_UnpacksOnTheSameSnapshotterWithCtrAndCri()
    {
        var ctr = NewCtr("oci");
        int logMark = Lazy.Snapshotter.LogLineCount;

        (await ctr.RunAsync(PullTimeout, "images", "pull", "--plain-http", "--snapshotter", Snapshotter, Images.OciReference)).EnsureSuccess();
        await AssertTreeAsync(ctr, Images.OciReference);

        var cri = CriCtr();
        await CriPullAsync(Images.OciReference);
        var run = await RunAsync(cri, Images.OciReference, "/bin/busybox", "cat", LazyTestImage.SmallFile);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(LazyTestImage.SmallFileContent, run.StdOut.Trim());

        // Ordinary layers: containerd downloads and unpacks all three; nothing is committed remotely.
        Assert.DoesNotContain("remotely (id", Lazy.Snapshotter.Logs(logMark), StringComparison.Ordinal);
        Assert.Equal(3, CtrOutput.Ls(await ctr.SnapshotsOkAsync(Snapshotter, "ls")).Count(r => r.Kind == "Committed"));
    }

    /// <summary>What the registry may have served our service for a container that read one small file of a cold image.</summary>
    protected abstract void AssertColdReadTraffic(IReadOnlyDictionary<string, long> servedBytes, IReadOnlyList<Descriptor> dataBlobs);

    /// <summary>
    /// The pull took the remote-snapshot path: containerd's content store holds the manifest but neither a data blob nor
    /// the bootstrap layer, the registry served containerd no byte of any layer (our service fetched the bootstrap layer
    /// itself), and the image's data layers and bootstrap are committed snapshots with their labels. (Our service logs a
    /// remote commit only for the first namespace that pulls a layer; later pulls find the committed snapshot.)
    /// </summary>
    private async Task AssertPulledLazilyAsync(Ctr ctr, ConversionResult image, int registryMark, int logMark)
    {
        var content = (await ctr.RunAsync("content", "ls", "-q")).EnsureSuccess().StdOut
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
        Assert.DoesNotContain(image.BootstrapLayer.Digest, content);
        Assert.Contains(image.Manifest.Digest, content);
        var byContainerd = Registry.BlobBytesSince(registryMark, ContainerdAgent);
        foreach (var blob in image.DataBlobs)
        {
            Assert.DoesNotContain(blob.Digest, content);
            Assert.False(byContainerd.ContainsKey(blob.Digest), $"the registry served containerd {byContainerd.GetValueOrDefault(blob.Digest)} bytes of data blob {blob.Digest}");
        }

        Assert.False(byContainerd.ContainsKey(image.BootstrapLayer.Digest), "the registry served containerd the bootstrap layer: our Prepare should have fetched it");
        var rows = CtrOutput.Ls(await ctr.SnapshotsOkAsync(Snapshotter, "ls"));
        int dataLayers = 0, bootstraps = 0;
        foreach (var row in rows.Where(r => r.Kind == "Committed"))
        {
            var info = CtrOutput.Info(await ctr.SnapshotsOkAsync(Snapshotter, "info", row.Key));
            dataLayers += info.Labels.GetValueOrDefault(NydusAnnotations.Blob) == "true" ? 1 : 0;
            bootstraps += info.Labels.GetValueOrDefault(NydusAnnotations.Bootstrap) == "true" ? 1 : 0;
        }

        Assert.Equal(image.DataBlobs.Count, dataLayers);
        Assert.Equal(1, bootstraps);
        string logs = Lazy.Snapshotter.Logs(logMark);
        Output.WriteLine($"remote commits logged during this pull: {logs.Split('\n').Count(l => l.Contains("remotely (id", StringComparison.Ordinal))}");
    }

    /// <summary>Runs <see cref="LazyTestImage.TreeScript"/> in a container and compares it with the umoci unpack of the source image.</summary>
    protected async Task AssertTreeAsync(Ctr ctr, string reference)
    {
        var run = await RunAsync(ctr, reference, "/bin/busybox", "sh", "-c", LazyTestImage.TreeScript);
        Assert.True(run.ExitCode == 0, run.ToString());
        var seen = ImageTree.FromReport(run.StdOut);
        var diffs = Images.Expected.Differences(seen);
        Assert.True(diffs.Count == 0, $"the container's tree differs from the source image:\n{string.Join('\n', diffs)}\n--- the container's stderr ---\n{run.StdErr}");

        // The oracle itself has the designed shape (a broken fixture must not pass silently).
        Assert.True(Images.Expected.Files.Count > LazyTestImage.SmallDirectories * LazyTestImage.FilesPerDirectory, $"{Images.Expected.Files.Count} files");
        Assert.Contains(LazyTestImage.BigFile, Images.Expected.Files.Keys);
        foreach (var (path, target) in LazyTestImage.DesignedSymlinks)
        {
            Assert.Equal(target, seen.Symlinks[path]);
        }

        var lines = Lines(run);
        Assert.DoesNotContain(lines, l => l.StartsWith("PRESENT ", StringComparison.Ordinal));
        Assert.All(LazyTestImage.DeletedPaths, p => Assert.DoesNotContain(p, Images.Expected.Files.Keys));
        Assert.Contains("OPQ . .. new.txt", lines);
        var hard = lines.Where(l => l.StartsWith("H ", StringComparison.Ordinal)).Select(l => l.Split(' ')).ToList();
        Assert.Equal(2, hard.Count);
        Assert.All(hard, h => Assert.Equal("2", h[2]));
        Assert.Equal(hard[0][3], hard[1][3]);
    }

    /// <summary>A fresh namespace for this test, cleaned up after it.</summary>
    protected Ctr NewCtr(string prefix)
    {
        var ctr = Fixture.Ctr(Fixture.NewNamespace(prefix));
        _namespaces.Add(ctr);
        return ctr;
    }

    /// <summary>The CRI plugin's namespace; images this test pulls through CRI are removed after it.</summary>
    protected Ctr CriCtr() => Fixture.Ctr(ContainerdFixture.CriNamespace);

    protected Task<ProcessResult> RpullAsync(Ctr ctr, string reference) =>
        ProcessRunner.RunAsync("ctr-remote", ["-a", Fixture.Address, "-n", ctr.Namespace, "images", "rpull", "--snapshotter", Snapshotter, "--plain-http", reference], PullTimeout);

    protected async Task<string> CriPullAsync(string reference)
    {
        _criImages.Add(reference);
        using var cri = Lazy.Cri();
        return await cri.PullAsync(reference);
    }

    /// <summary><c>ctr run --rm --snapshotter nydus REF ID [COMMAND...]</c>.</summary>
    protected Task<ProcessResult> RunAsync(Ctr ctr, string reference, params string[] command) =>
        command.Length == 0
            ? ctr.RunAsync(PullTimeout, ["run", "--rm", "--snapshotter", Snapshotter, reference, ContainerId()])
            : ctr.RunContainerAsync(PullTimeout, Snapshotter, reference, ContainerId(), command);

    protected static string ContainerId() => "c-" + Guid.NewGuid().ToString("N")[..12];

    protected static string[] Lines(ProcessResult result) => result.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Removes what the test left (containers, images of its namespaces and CRI), so cached blobs become unreferenced.</summary>
    public async Task DisposeAsync()
    {
        foreach (var ctr in _namespaces)
        {
            await RemoveAllAsync(ctr);
        }

        if (_criImages.Count > 0)
        {
            using var cri = Lazy.Cri();
            foreach (string image in _criImages)
            {
                try
                {
                    await cri.RemoveAsync(image);
                }
                catch (Grpc.Core.RpcException e)
                {
                    Output.WriteLine($"[cleanup] CRI RemoveImage {image}: {e.Status}");
                }
            }
        }

        await Fixture.CollectGarbageAsync();
        Output.WriteLine("===== docker-registry (since the test started) =====");
        Output.WriteLine(string.Join('\n', Registry.RequestsSince(_registryMark).Select(r => $"{r.Method} {r.Path} {r.Status} {r.Bytes} {r.UserAgent}")));
    }

    /// <summary>Force-removes every task, container and image of <paramref name="ctr"/>'s namespace (best effort).</summary>
    protected static async Task RemoveAllAsync(Ctr ctr)
    {
        foreach (string id in Lines(await ctr.RunAsync("containers", "ls", "-q")))
        {
            await ctr.RunAsync("tasks", "rm", "-f", id);
            await ctr.RunAsync("containers", "rm", id);
        }

        var images = Lines(await ctr.RunAsync("images", "ls", "-q"));
        if (images.Length > 0)
        {
            await ctr.RunAsync(["images", "rm", "--sync", .. images]);
        }
    }
}
