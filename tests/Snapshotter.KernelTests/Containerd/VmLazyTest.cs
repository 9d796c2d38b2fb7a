using Snapshotter.Oci;
using System.Diagnostics;
using Snapshotter.IntegrationTests.Fixtures;
using Xunit.Abstractions;

namespace Snapshotter.KernelTests.Containerd;

/// <summary>
/// Base of the guest's containerd test classes: pulls with <c>ctr-remote images rpull</c> and CRI <c>PullImage</c>,
/// containers with <c>ctr run --snapshotter nydus</c>, what the registry served counted from its own access log (by user
/// agent: our service's vs containerd's), and after each test its containers and images removed so that blobs become
/// unreferenced. The daemons' logs of the test and the registry's requests go to the test output.
/// </summary>
public abstract class VmLazyTest : IntegrationTest, IAsyncLifetime
{
    /// <summary>User agent prefix of our service's registry client (containerd's is <c>containerd/</c>).</summary>
    protected const string ServeAgent = "snapshotter-registry/";

    protected const string ContainerdAgent = "containerd/";

    /// <summary>Generous: the guest's CPU is emulated (a lazy pull takes seconds, an ordinary one of the big image minutes).</summary>
    protected static readonly TimeSpan PullTimeout = TimeSpan.FromMinutes(10);

    protected static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(5);

    private readonly List<Ctr> _namespaces = [];
    private readonly List<string> _criImages = [];
    private readonly int _registryMark;
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    protected VmLazyTest(VmLazyFixture fixture, ITestOutputHelper output)
        : base(fixture.Containerd, output)
    {
        Lazy = fixture;
        _registryMark = fixture.Images.Registry.Mark();
    }

    protected VmLazyFixture Lazy { get; }

    protected LazyVmImages Images => Lazy.Images;

    protected TestRegistry Registry => Images.Registry;

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

    /// <summary>CRI <c>PullImage</c> (what the kubelet sends); returns the image id.</summary>
    protected async Task<string> CriPullAsync(string reference)
    {
        _criImages.Add(reference);
        using var cri = Lazy.Cri();
        return await cri.PullAsync(reference);
    }

    /// <summary><c>ctr run --rm --snapshotter nydus REF ID /bin/sh -c SCRIPT</c> (output through files: <see cref="Ctr.RunContainerAsync"/>).</summary>
    protected Task<ProcessResult> RunAsync(Ctr ctr, string reference, string script) =>
        ctr.RunContainerAsync(RunTimeout, Snapshotter, reference, ContainerId(), "/bin/sh", "-c", script);

    /// <summary><c>ctr run -d</c> of a container that reads a file, then sleeps, holding its rootfs (and the image's lazy mount).</summary>
    protected async Task StartSleeperAsync(Ctr ctr, string reference, string id) =>
        (await ctr.RunAsync(RunTimeout, "run", "-d", "--snapshotter", Snapshotter, reference, id, "/bin/sh", "-c", "cat /etc/motd > /dev/null && exec sleep 3600")).EnsureSuccess();

    /// <summary>Kills and deletes the task, then the container with its snapshot.</summary>
    protected static async Task RemoveContainerAsync(Ctr ctr, string id)
    {
        (await ctr.RunAsync("tasks", "rm", "-f", id)).EnsureSuccess();
        (await ctr.RunAsync("containers", "rm", id)).EnsureSuccess();
    }

    protected static string ContainerId() => "c-" + Guid.NewGuid().ToString("N")[..12];

    protected static string[] Lines(ProcessResult result) => Lines(result.StdOut);

    protected static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>The EROFS lazy mounts under the service's mounts directory.</summary>
    protected IReadOnlyList<MountEntry> LazyMounts() =>
        Mounts.EntriesUnder(Lazy.MountsDirectory).Where(m => m.FsType == "erofs").ToList();

    /// <summary>Directories left under the service's mounts directory.</summary>
    protected IReadOnlyList<string> MountDirectories() =>
        Directory.Exists(Lazy.MountsDirectory) ? Directory.GetFileSystemEntries(Lazy.MountsDirectory) : [];

    /// <summary>
    /// Body bytes the registry served our service for <paramref name="blobs"/> since <paramref name="mark"/>, per digest,
    /// once no new request has finished for 3 s (a read-ahead may still be in flight when a container exits).
    /// </summary>
    protected async Task<Dictionary<string, long>> SettledServeBytesAsync(int mark, IReadOnlyList<Descriptor> blobs)
    {
        var watch = Stopwatch.StartNew();
        var stable = Stopwatch.StartNew();
        int requests = -1;
        while (true)
        {
            int now = Registry.RequestsSince(mark).Count;
            if (now != requests)
            {
                requests = now;
                stable.Restart();
            }
            else if (stable.Elapsed > TimeSpan.FromSeconds(3) || watch.Elapsed > TimeSpan.FromSeconds(60))
            {
                var byServe = Registry.BlobBytesSince(mark, ServeAgent);
                return blobs.ToDictionary(b => b.Digest, b => byServe.GetValueOrDefault(b.Digest), StringComparer.Ordinal);
            }

            await Task.Delay(250);
        }
    }

    /// <summary>
    /// The pull took the remote-snapshot path: containerd's content store holds the manifest but neither a data blob nor
    /// the bootstrap layer, the registry served containerd no byte of any layer (our service fetched the bootstrap layer
    /// itself), and the data layers and the bootstrap are committed snapshots with their labels.
    /// </summary>
    private protected async Task AssertPulledLazilyAsync(Ctr ctr, LazyVmImage image, int registryMark)
    {
        var content = Lines((await ctr.RunAsync("content", "ls", "-q")).EnsureSuccess()).ToHashSet(StringComparer.Ordinal);
        Assert.DoesNotContain(image.Conversion.BootstrapLayer.Digest, content);
        Assert.Contains(image.Conversion.Manifest.Digest, content);
        var byContainerd = Registry.BlobBytesSince(registryMark, ContainerdAgent);
        foreach (var blob in image.DataBlobs)
        {
            Assert.DoesNotContain(blob.Digest, content);
            Assert.False(byContainerd.ContainsKey(blob.Digest), $"the registry served containerd {byContainerd.GetValueOrDefault(blob.Digest)} bytes of data blob {blob.Digest}");
        }

        Assert.False(byContainerd.ContainsKey(image.Conversion.BootstrapLayer.Digest), "the registry served containerd the bootstrap layer: our Prepare should have fetched it");
        int dataLayers = 0, bootstraps = 0;
        foreach (var row in CtrOutput.Ls(await ctr.SnapshotsOkAsync(Snapshotter, "ls")).Where(r => r.Kind == "Committed"))
        {
            var info = CtrOutput.Info(await ctr.SnapshotsOkAsync(Snapshotter, "info", row.Key));
            dataLayers += info.Labels.GetValueOrDefault(NydusAnnotations.Blob) == "true" ? 1 : 0;
            bootstraps += info.Labels.GetValueOrDefault(NydusAnnotations.Bootstrap) == "true" ? 1 : 0;
        }

        Assert.Equal(image.DataBlobs.Count, dataLayers);
        Assert.Equal(1, bootstraps);
    }

    /// <summary>Every snapshot containerd lists has exactly one directory under the service's root, nothing more.</summary>
    protected async Task AssertSnapshotDirectoriesMatchAsync()
    {
        int snapshots = await Fixture.CountAllSnapshotsAsync();
        string[] dirs = Directory.GetDirectories(Path.Combine(Lazy.Snapshotter.Root, "snapshots"));
        Assert.True(snapshots == dirs.Length, $"{snapshots} snapshots listed but {dirs.Length} directories: {string.Join(", ", dirs.Select(Path.GetFileName))}");
    }

    /// <summary>Removes every container and image in every namespace of this containerd, then collects garbage.</summary>
    protected async Task RemoveEverythingAsync()
    {
        string namespaces = (await Fixture.Ctr("default").RunAsync("namespaces", "ls", "-q")).EnsureSuccess().StdOut;
        foreach (string ns in Lines(namespaces))
        {
            await RemoveAllAsync(Fixture.Ctr(ns));
        }

        await Fixture.CollectGarbageAsync();
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
        Output.WriteLine($"===== docker-registry (since the test started; the test took {_clock.Elapsed.TotalSeconds:F0} s) =====");
        Output.WriteLine(string.Join('\n', Registry.RequestsSince(_registryMark).Select(r => $"{r.Method} {r.Path} {r.Status} {r.Bytes} {r.UserAgent}")));
    }
}
