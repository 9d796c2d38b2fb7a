namespace Snapshotter.IntegrationTests.Fixtures;

/// <summary>
/// The lazy-pull setup of one test class: containerd 1.6 with its CRI plugin on (snapshotter <c>nydus</c>,
/// <c>disable_snapshot_annotations = false</c>, registries from the shared hosts directory) and our
/// <c>snapshotter serve --lazy-mode MODE --hosts-dir DIR</c> as the proxy plugin named <c>nydus</c> (the name nerdctl
/// and ctr-remote users give it), against the run's <see cref="LazyImages"/> registry.
/// </summary>
public abstract class LazyContainerdFixture : IAsyncLifetime
{
    /// <summary>The proxy plugin's name: nerdctl adds remote-snapshot labels only for names containing <c>nydus</c>, <c>stargz</c>, ....</summary>
    public const string ProxyName = "nydus";

    /// <summary>A registry fetch of our service gives up after this long (<c>fetch_timeout_seconds</c>); a reader then gets EIO.</summary>
    public const int FetchTimeoutSeconds = 15;

    private ContainerdFixture? _containerd;

    protected LazyContainerdFixture(LazyImages images, string lazyMode)
    {
        Images = images;
        LazyMode = lazyMode;
    }

    public LazyImages Images { get; }

    /// <summary>The <c>--lazy-mode</c> our service runs with.</summary>
    public string LazyMode { get; }

    public ContainerdFixture Containerd => _containerd ?? throw new InvalidOperationException("the fixture is not started");

    public SnapshotterProcess Snapshotter => Containerd.RequireSnapshotter();

    /// <summary>Where the service mounts each lazy image once (<c>&lt;root&gt;/mounts/&lt;id&gt;</c>).</summary>
    public string MountsDirectory => Path.Combine(Snapshotter.Root, "mounts");

    /// <summary>The service's local blob files (complete, partial or sparse), <c>&lt;root&gt;/cache/blobs</c>.</summary>
    public string BlobCacheDirectory => Path.Combine(Snapshotter.Root, "cache", "blobs");

    /// <summary>A CRI image-service client on containerd's socket (dispose it).</summary>
    internal CriImageClient Cri() => new(Containerd.Address);

    public async Task InitializeAsync()
    {
        Tools.Require("ctr-remote");
        await Images.EnsureAsync().ConfigureAwait(false);
        _containerd = new ContainerdFixture(new ContainerdFixtureOptions
        {
            ProxyName = ProxyName,
            CriHostsDirectory = Images.HostsDirectory,
            SnapshotterArguments = ["--lazy-mode", LazyMode, "--hosts-dir", Images.HostsDirectory],
            SnapshotterConfigJson = $$"""{ "metrics_address": "", "fetch_timeout_seconds": {{FetchTimeoutSeconds}} }""",
        });

        // Cleans up after itself when it fails to start.
        await _containerd.InitializeAsync().ConfigureAwait(false);
    }

    public async Task DisposeAsync()
    {
        if (_containerd is not null)
        {
            await _containerd.DisposeAsync().ConfigureAwait(false);
        }
    }
}
