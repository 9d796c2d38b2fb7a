using System.Diagnostics;
using Snapshotter.KernelTests.Images;

namespace Snapshotter.KernelTests.Containerd;

/// <summary>
/// Once for every containerd test class (a collection fixture): a guest docker-registry with its access log on, holding
/// two converted images: <see cref="Big"/> with a ~200 MiB data layer, and <see cref="Small"/> with an 8 MiB one (for
/// tests that download whole blobs). Building them costs minutes on the emulated CPU, so it is done once.
/// </summary>
public sealed class LazyVmImages : IAsyncLifetime
{
    public const long BigFileSize = 200L * 1024 * 1024;
    public const long SmallFileSize = 8L * 1024 * 1024;

    internal GuestRegistry Registry { get; private set; } = null!;

    internal LazyVmImage Big { get; private set; } = null!;

    internal LazyVmImage Small { get; private set; } = null!;

    internal TimeSpan BigBuildTime { get; private set; }

    internal TimeSpan SmallBuildTime { get; private set; }

    internal string WorkDir { get; } = Path.Combine(KernelEnvironment.Scratch, "images-" + Guid.NewGuid().ToString("N")[..8]);

    public async Task InitializeAsync()
    {
        KernelEnvironment.RequireOnDemandKernel();
        Assert.True(File.Exists("/bin/busybox"), "/bin/busybox (package busybox-static) is needed to build the test images");
        Directory.CreateDirectory(WorkDir);
        Registry = new GuestRegistry(accessLog: true);
        var watch = Stopwatch.StartNew();
        Small = await LazyVmImage.BuildAsync($"{Registry.Host}/vm/small:v1", SmallFileSize, WorkDir);
        SmallBuildTime = watch.Elapsed;
        watch.Restart();
        Big = await LazyVmImage.BuildAsync($"{Registry.Host}/vm/big:v1", BigFileSize, WorkDir);
        BigBuildTime = watch.Elapsed;
    }

    public Task DisposeAsync()
    {
        Registry?.Dispose();
        if (Directory.Exists(WorkDir))
        {
            Directory.Delete(WorkDir, recursive: true);
        }

        return Task.CompletedTask;
    }
}
