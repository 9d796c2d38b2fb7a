using System.Diagnostics;
using Snapshotter.IntegrationTests.Fixtures;

namespace Snapshotter.KernelTests.Containerd;

/// <summary>
/// Once for every containerd test class (a collection fixture): a real docker-registry in the guest with its access log on
/// (<see cref="TestRegistry"/>, storage on the ext4 scratch disk), a hosts directory that makes it plain HTTP for
/// containerd's CRI and our service, and two converted images: <see cref="Big"/> with a ~200 MiB data layer, and
/// <see cref="Small"/> with an 8 MiB one (for the test whose fallback mode downloads whole blobs). Building them costs
/// about a minute on the emulated CPU, so it is done once.
/// </summary>
public sealed class LazyVmImages : IAsyncLifetime
{
    public const long BigFileSize = 200L * 1024 * 1024;
    public const long SmallFileSize = 8L * 1024 * 1024;

    internal TestRegistry Registry { get; private set; } = null!;

    /// <summary>containerd-style <c>&lt;host&gt;/hosts.toml</c> directory for the registry (CRI <c>config_path</c>, serve <c>--hosts-dir</c>).</summary>
    internal string HostsDirectory => Path.Combine(WorkDir, "hosts");

    internal LazyVmImage Big { get; private set; } = null!;

    internal LazyVmImage Small { get; private set; } = null!;

    internal TimeSpan BuildTime { get; private set; }

    internal string WorkDir { get; } = Path.Combine(KernelEnvironment.Scratch, "images-" + Guid.NewGuid().ToString("N")[..8]);

    public async Task InitializeAsync()
    {
        KernelEnvironment.RequireOnDemandKernel();
        Tools.RequireRoot();
        Tools.RequireStaticBusybox();
        var watch = Stopwatch.StartNew();
        Directory.CreateDirectory(WorkDir);
        Registry = await TestRegistry.StartAsync(Path.Combine(WorkDir, "registry"));
        string hostDir = Directory.CreateDirectory(Path.Combine(HostsDirectory, Registry.Host)).FullName;
        await File.WriteAllTextAsync(Path.Combine(hostDir, "hosts.toml"), $"""
            server = "http://{Registry.Host}"

            [host."http://{Registry.Host}"]
              capabilities = ["pull", "resolve", "push"]
            """);
        Small = await LazyVmImage.BuildAsync($"{Registry.Host}/vm/small:v1", SmallFileSize, HostsDirectory, WorkDir);
        Big = await LazyVmImage.BuildAsync($"{Registry.Host}/vm/big:v1", BigFileSize, HostsDirectory, WorkDir);
        BuildTime = watch.Elapsed;
        Console.Error.WriteLine($"[fixture] VM test images built and pushed to {Registry.Host} in {BuildTime.TotalSeconds:F0} s");
    }

    public async Task DisposeAsync()
    {
        if (Registry is not null)
        {
            await Registry.DisposeAsync();
        }

        if (Directory.Exists(WorkDir))
        {
            Directory.Delete(WorkDir, recursive: true);
        }
    }
}
