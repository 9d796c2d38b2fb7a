using Snapshotter.Tests.Hosting;
using Xunit.Abstractions;

namespace Snapshotter.KernelTests.Containerd;

/// <summary>
/// A refused on-demand mode in the guest (<see cref="OnDemandRefusedVmFixture"/>: another process holds
/// <c>/dev/cachefiles</c>): the service, asked for fscache, says why it cannot have it, falls back to blob-fetch through
/// loop devices, counts the fallback in <c>snapshotter_lazy_fallbacks_total{reason="on_demand_refused"}</c>, and still
/// serves lazy images through containerd.
/// </summary>
[Collection(ContainerdCollection.Name)]
public sealed class OnDemandRefusedTests(OnDemandRefusedVmFixture fixture, ITestOutputHelper output)
    : VmLazyTest(fixture, output), IClassFixture<OnDemandRefusedVmFixture>
{
    [Fact]
    public async Task Serve_CachefilesDeviceHeldByAnotherProcess_FallsBackToBlobFetchCountsItAndRunsLazyImage()
    {
        var start = Lines(Lazy.Snapshotter.Logs());
        var refused = Assert.Single(start, l => l.Contains("Snapshotter.Lazy[6001]", StringComparison.Ordinal) && l.Contains("lazy mode fscache is not available", StringComparison.Ordinal));
        Output.WriteLine(refused);
        Assert.Contains("EBUSY", refused, StringComparison.Ordinal);
        var chosen = Assert.Single(start, l => l.Contains("Snapshotter.Lazy[6000]", StringComparison.Ordinal));
        Output.WriteLine(chosen);
        Assert.Contains("served in blob-fetch mode", chosen, StringComparison.Ordinal);

        var metrics = await MetricsText.ScrapeAsync(Lazy.MetricsAddress);
        Assert.Equal(1, metrics.Value("snapshotter_lazy_fallbacks_total", ("reason", "on_demand_refused")));

        var image = Images.Small;
        var ctr = NewCtr("fallback");
        int mark = Registry.Mark();
        (await RpullAsync(ctr, image.Reference)).EnsureSuccess();
        await AssertPulledLazilyAsync(ctr, image, mark);
        string holder = ContainerId();
        await StartSleeperAsync(ctr, image.Reference, holder);
        var lazy = Assert.Single(LazyMounts());
        Output.WriteLine($"lazy mount: {lazy}");
        Assert.StartsWith("/dev/loop", lazy.Source, StringComparison.Ordinal);

        var (script, expected) = image.ReadScript('a', 1_000);
        var run = await RunAsync(ctr, image.Reference, script);
        Assert.True(run.ExitCode == 0 && run.StdOut == expected, $"expected:\n{expected}\n{run}");

        // blob-fetch downloads each data blob whole, once; the device holder kept the device all along.
        var served = await SettledServeBytesAsync(mark, image.DataBlobs);
        Assert.All(image.DataBlobs, b => Assert.InRange(served[b.Digest], b.Size, 2 * b.Size));
        Assert.False(Lazy is OnDemandRefusedVmFixture { Holder.HasExited: true }, "the process holding /dev/cachefiles exited");

        await RemoveContainerAsync(ctr, holder);
        (await ctr.RunAsync("images", "rm", "--sync", image.Reference)).EnsureSuccess();
        await Fixture.CollectGarbageAsync();
        Assert.Empty(LazyMounts());
        Assert.Empty(MountDirectories());
        Assert.Empty(LoopDevicesBackedBy(Lazy.CacheDirectory));
        Assert.Equal(1, (await MetricsText.ScrapeAsync(Lazy.MetricsAddress)).Value("snapshotter_lazy_fallbacks_total", ("reason", "on_demand_refused")));
    }

    /// <summary>Loop devices whose backing file lies under <paramref name="directory"/>.</summary>
    private static List<string> LoopDevicesBackedBy(string directory) =>
        Directory.EnumerateDirectories("/sys/block", "loop*")
            .Select(d => Path.Combine(d, "loop", "backing_file"))
            .Where(File.Exists)
            .Select(f => File.ReadAllText(f).Trim())
            .Where(f => f.StartsWith(directory, StringComparison.Ordinal))
            .ToList();
}
