using Snapshotter.IntegrationTests.Fixtures;
using Snapshotter.Registry.Tests.Infrastructure;

namespace Snapshotter.KernelTests.Containerd;

/// <summary>
/// The lazy-pull setup of one test class inside the guest, on the host tier's <see cref="ContainerdFixture"/>: containerd
/// 1.6 with its CRI plugin on (snapshotter <c>nydus</c>, <c>disable_snapshot_annotations = false</c>, registries from the
/// images' hosts directory) and our <c>snapshotter serve --lazy-mode MODE --hosts-dir DIR --cache-dir DIR</c> as the proxy
/// plugin <c>nydus</c>, with its metrics endpoint on a loopback port. The cache directory is on the ext4 scratch disk
/// (cachefiles refuses tmpfs); containerd's and the service's roots are on the guest's tmpfs.
/// </summary>
public abstract class VmLazyFixture : IAsyncLifetime
{
    /// <summary>The proxy plugin's name: nerdctl adds remote-snapshot labels only for names containing <c>nydus</c>, <c>stargz</c>, ....</summary>
    public const string ProxyName = "nydus";

    /// <summary>The emulated guest JIT-compiles the service (and its ASP.NET Core host) for a minute or more before it listens.</summary>
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(5);

    private ContainerdFixture? _containerd;

    protected VmLazyFixture(LazyVmImages images, string lazyMode)
    {
        Images = images;
        LazyMode = lazyMode;
        CacheDirectory = Path.Combine(KernelEnvironment.Scratch, "cache-" + Guid.NewGuid().ToString("N")[..8]);
        MetricsAddress = $"127.0.0.1:{FreePort.Get()}";
    }

    public LazyVmImages Images { get; }

    /// <summary>The <c>--lazy-mode</c> our service runs with.</summary>
    public string LazyMode { get; }

    /// <summary>The service's <c>--cache-dir</c> (blob files, and the cachefiles cache under <c>fscache/</c>).</summary>
    public string CacheDirectory { get; }

    /// <summary>host:port of the service's <c>/metrics</c>.</summary>
    public string MetricsAddress { get; }

    public ContainerdFixture Containerd => _containerd ?? throw new InvalidOperationException("the fixture is not started");

    public SnapshotterProcess Snapshotter => Containerd.RequireSnapshotter();

    /// <summary>Where the service mounts each lazy image once (<c>&lt;root&gt;/mounts/&lt;id&gt;</c>).</summary>
    public string MountsDirectory => Path.Combine(Snapshotter.Root, "mounts");

    /// <summary>A CRI image-service client on containerd's socket (dispose it).</summary>
    internal CriImageClient Cri() => new(Containerd.Address);

    public async Task InitializeAsync()
    {
        KernelEnvironment.RequireOnDemandKernel();
        Tools.Require("ctr-remote");
        Directory.CreateDirectory(CacheDirectory);
        await BeforeStartAsync();

        // Registry calls get 5 minutes: the emulated guest JIT-compiles the service's HTTP stack at its first request.
        _containerd = new ContainerdFixture(new ContainerdFixtureOptions
        {
            ProxyName = ProxyName,
            CriHostsDirectory = Images.HostsDirectory,
            SnapshotterArguments = ["--lazy-mode", LazyMode, "--hosts-dir", Images.HostsDirectory, "--cache-dir", CacheDirectory],
            SnapshotterConfigJson = $$"""{ "metrics_address": "{{MetricsAddress}}", "fetch_timeout_seconds": 300 }""",
            StartTimeout = StartTimeout,
        });

        // Cleans up after itself when it fails to start.
        await _containerd.InitializeAsync();
    }

    /// <summary>What a derived fixture sets up before the service starts (e.g. another holder of /dev/cachefiles).</summary>
    protected virtual Task BeforeStartAsync() => Task.CompletedTask;

    /// <summary>Undoes <see cref="BeforeStartAsync"/>, after the service stopped.</summary>
    protected virtual Task AfterStopAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        try
        {
            if (_containerd is not null)
            {
                await _containerd.DisposeAsync();
            }
        }
        finally
        {
            await AfterStopAsync();
            Mounts.UnmountAll(CacheDirectory);
            if (Directory.Exists(CacheDirectory))
            {
                Directory.Delete(CacheDirectory, recursive: true);
            }
        }
    }
}
