using Xunit.Abstractions;

namespace Snapshotter.KernelTests.Containerd;

/// <summary>
/// A refused on-demand mode in the guest: <c>serve --lazy-mode auto</c> with its cache on tmpfs, where 6.1's cachefiles
/// refuses <c>bind</c>. The service must say why it fell back and still serve lazy images, here with blob-fetch through
/// loop devices (6.1 cannot mount EROFS from files, so the fuse mode is out too). The fallback is counted in
/// <c>RemoteStatistics</c> (<c>OnDemandRefused</c>), which no metric exports yet: the log lines are what is asserted.
/// </summary>
[Collection(ContainerdCollection.Name)]
public sealed class ContainerdLazyFallbackTests(LazyVmImages images, FallbackContainerdFixture stacks, ITestOutputHelper output) : IClassFixture<FallbackContainerdFixture>
{
    [Fact]
    public async Task Serve_AutoModeWithCacheOnTmpfs_LogsTheFallbackAndRunsLazyImageFromLoopDevices()
    {
        var stack = await stacks.GetAsync(images);
        var image = images.Small;
        stack.Describe(output, image);
        var start = stack.Serve.Lines();
        Assert.True(
            start.Any(l => l.Contains("Snapshotter.Lazy[6001]", StringComparison.Ordinal) && l.Contains("lazy mode fscache is not available", StringComparison.Ordinal)
                && l.Contains("bind ondemand", StringComparison.Ordinal)),
            $"no [6001] line naming the refused bind:\n{string.Join('\n', start)}");
        var chosen = Assert.Single(start, l => l.Contains("Snapshotter.Lazy[6000]", StringComparison.Ordinal));
        output.WriteLine(chosen);
        Assert.Contains("served in blob-fetch mode", chosen, StringComparison.Ordinal);
        Assert.Contains("loop devices", chosen, StringComparison.Ordinal);

        var ns = stack.NewNamespace("fallback");
        var mark = stack.Mark();
        (await stack.Containerd.RpullAsync(ns, image.Reference, TimeSpan.FromMinutes(10))).EnsureSuccess();
        try
        {
            (await stack.Containerd.RunDetachedAsync(ns, image.Reference, "holder", "exec sleep 3600", TimeSpan.FromMinutes(5))).EnsureSuccess();
            var lazy = Assert.Single(stack.LazyMounts());
            output.WriteLine($"lazy mount: {lazy}");
            Assert.StartsWith("/dev/loop", lazy.Source, StringComparison.Ordinal);

            var (script, expected) = image.ReadScript('a');
            var run = await stack.Containerd.RunAsync(ns, image.Reference, "reader", script, TimeSpan.FromMinutes(5));
            Assert.True(run.ExitCode == 0 && run.StdOut == expected, $"expected:\n{expected}\n{run}\n{stack.LogsSince(mark)}");

            // blob-fetch downloads each data blob whole, once.
            var served = await stack.SettledBlobBytesAsync(mark.Registry, image.DataBlob.Digest);
            output.WriteLine($"registry served {served} of {image.DataBlob.Size} data blob bytes");
            Assert.True(served >= image.DataBlob.Size, $"blob-fetch served only {served} of {image.DataBlob.Size} bytes\n{stack.LogsSince(mark)}");
        }
        finally
        {
            await stack.Containerd.RemoveContainerAsync(ns, "holder");
        }

        await stack.Containerd.RemoveImagesAsync(ns);
        Assert.Empty(stack.LazyMounts());
        Assert.Empty(stack.MountDirectories());
        Assert.Empty(LoopDevicesBackedBy(stack.RunDir));
        stack.Describe(output, image);
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
