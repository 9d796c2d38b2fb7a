using System.Text;
using Snapshotter.IntegrationTests.Interop;
using Tmds.Linux;

namespace Snapshotter.IntegrationTests.Fixtures;

/// <summary>
/// Real containerd 1.6 (<c>/usr/bin/containerd</c>) on a temp config, root, state and socket, with
/// our <c>snapshotter serve</c> registered as the proxy snapshot plugin <c>lazy</c> (or as
/// <see cref="ContainerdFixtureOptions"/> say: another name, CRI on, serve arguments). Both start
/// once per test class; everything (processes, shims, mounts, dirs) is removed on dispose.
/// </summary>
/// <remarks>
/// Setting <c>LAZY_IT_SNAPSHOTTER=overlayfs</c> points the same tests at containerd's built-in
/// snapshotter instead (to check the expectations themselves); tests that need our process fail then.
/// </remarks>
public sealed class ContainerdFixture : IAsyncLifetime
{
    /// <summary>The proxy plugin name in the generated containerd config unless the options name another.</summary>
    public const string DefaultProxyName = "lazy";

    /// <summary>The namespace containerd's CRI plugin keeps its images and containers in.</summary>
    public const string CriNamespace = "k8s.io";

    /// <summary>A namespace holding one active snapshot, <see cref="ProbeKey"/>, used to check containerd reaches the snapshotter.</summary>
    public const string ProbeNamespace = "fixture-probe";

    public const string ProbeKey = "probe";

    private readonly ContainerdFixtureOptions _options;
    private DaemonProcess? _containerd;
    private int _namespaceCounter;

    public ContainerdFixture()
        : this(new ContainerdFixtureOptions())
    {
    }

    /// <summary>A fixture started as <paramref name="options"/> say (xunit uses the public parameterless constructor).</summary>
    internal ContainerdFixture(ContainerdFixtureOptions options)
    {
        _options = options;

        // Short path: unix socket paths are limited to 107 bytes.
        Directory = Path.Combine("/tmp", "lzit-" + Guid.NewGuid().ToString("N")[..10]);
        SnapshotterName = Environment.GetEnvironmentVariable("LAZY_IT_SNAPSHOTTER") is { Length: > 0 } s ? s : options.ProxyName;
    }

    /// <summary>The proxy plugin's name in containerd's config.</summary>
    public string ProxyName => _options.ProxyName;

    /// <summary>True when containerd's CRI plugin runs (<see cref="ContainerdFixtureOptions.CriHostsDirectory"/>).</summary>
    public bool CriEnabled => _options.CriHostsDirectory is not null;

    /// <summary>The temp directory holding every file of this fixture.</summary>
    public string Directory { get; }

    /// <summary>containerd's gRPC socket.</summary>
    public string Address => Path.Combine(Directory, "containerd.sock");

    public string ContainerdRoot => Path.Combine(Directory, "containerd", "root");

    public string ContainerdState => Path.Combine(Directory, "containerd", "state");

    /// <summary>The snapshotter the tests pass to <c>ctr --snapshotter</c>.</summary>
    public string SnapshotterName { get; }

    /// <summary>Our service, or null when running against a built-in snapshotter.</summary>
    public SnapshotterProcess? Snapshotter { get; private set; }

    public int ContainerdPid => _containerd?.Pid ?? throw new InvalidOperationException("containerd is not running");

    /// <summary>Our service; fails the test with a clear message when the fixture runs against a built-in snapshotter.</summary>
    public SnapshotterProcess RequireSnapshotter() =>
        Snapshotter ?? throw new InvalidOperationException($"this test needs our snapshotter process, but LAZY_IT_SNAPSHOTTER={SnapshotterName}");

    /// <summary>A fresh containerd namespace, so tests never see each other's snapshots or images.</summary>
    public string NewNamespace(string prefix) => $"{prefix}-{Interlocked.Increment(ref _namespaceCounter)}-{Guid.NewGuid().ToString("N")[..6]}";

    public Ctr Ctr(string @namespace) => new(Address, @namespace);

    /// <summary>
    /// Runs containerd's garbage collector to completion (deleting a fresh lease with <c>--sync</c>).
    /// containerd collects about a second after any deletion, and <c>ctr snapshots view</c> makes views
    /// without a <c>containerd.io/gc.root</c> label: a test that needs its views to survive settles the
    /// collector first and deletes nothing while it uses them.
    /// </summary>
    public async Task CollectGarbageAsync()
    {
        var admin = Ctr("default");
        string lease = (await admin.RunAsync("leases", "create").ConfigureAwait(false)).EnsureSuccess().StdOut.Trim();
        (await admin.RunAsync("leases", "rm", "--sync", lease).ConfigureAwait(false)).EnsureSuccess();
    }

    /// <summary>
    /// Starts our service again on the same root after a stop or kill, and waits until containerd
    /// reaches it: containerd's gRPC client reconnects to a proxy plugin with backoff, and calls
    /// made before that fail with UNAVAILABLE.
    /// </summary>
    public async Task RestartSnapshotterAsync()
    {
        var ours = RequireSnapshotter();
        await ours.RestartAsync().ConfigureAwait(false);
        var probe = Ctr(ProbeNamespace);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            // Stat reaches the snapshotter (ls of an empty namespace would not).
            var result = await probe.SnapshotsAsync(SnapshotterName, "info", ProbeKey).ConfigureAwait(false);
            if (result.ExitCode == 0)
            {
                return;
            }

            if (sw.Elapsed > TimeSpan.FromSeconds(90))
            {
                throw new TimeoutException($"containerd did not reach the restarted snapshotter within 90 s: {result}");
            }

            await Task.Delay(250).ConfigureAwait(false);
        }
    }

    /// <summary>How many snapshots containerd lists on our snapshotter, over all namespaces (the probe included).</summary>
    public async Task<int> CountAllSnapshotsAsync()
    {
        int count = 0;
        string namespaces = (await Ctr("default").RunAsync("namespaces", "ls", "-q").ConfigureAwait(false)).EnsureSuccess().StdOut;
        foreach (string ns in namespaces.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            count += CtrOutput.Ls(await Ctr(ns).SnapshotsOkAsync(SnapshotterName, "ls").ConfigureAwait(false)).Count;
        }

        return count;
    }

    public LogMark Mark() => new(Snapshotter?.LogLineCount ?? 0, _containerd?.LineCount ?? 0);

    /// <summary>Both daemons' output since <paramref name="mark"/>, for failure diagnostics.</summary>
    public string LogsSince(LogMark mark)
    {
        var sb = new StringBuilder();
        if (Snapshotter is not null)
        {
            sb.AppendLine("===== snapshotter serve =====").AppendLine(Snapshotter.Logs(mark.SnapshotterLine));
        }

        if (_containerd is not null)
        {
            sb.AppendLine("===== containerd =====").AppendLine(_containerd.Logs(mark.ContainerdLine));
        }

        return sb.ToString();
    }

    public async Task InitializeAsync()
    {
        try
        {
            await StartAsync().ConfigureAwait(false);
        }
        catch
        {
            // xunit does not dispose a fixture whose initialization threw: clean up here.
            await DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task StartAsync()
    {
        Tools.RequireRoot();
        Tools.Require("containerd");
        Tools.Require("ctr");
        Tools.Require("runc");
        System.IO.Directory.CreateDirectory(Directory);
        System.IO.Directory.CreateDirectory(ContainerdRoot);
        System.IO.Directory.CreateDirectory(ContainerdState);

        string snapshotterSocket = Path.Combine(Directory, "snapshotter.sock");
        if (SnapshotterName == ProxyName)
        {
            Snapshotter = await SnapshotterProcess.StartAsync(
                Path.Combine(Directory, "snapshotter"), snapshotterSocket, _options.SnapshotterArguments, _options.SnapshotterConfigJson, _options.StartTimeout).ConfigureAwait(false);
        }

        string config = Path.Combine(Directory, "containerd.toml");
        await File.WriteAllTextAsync(config, ConfigToml(snapshotterSocket)).ConfigureAwait(false);
        _containerd = DaemonProcess.Start("containerd", "containerd", ["--config", config, "--log-level", "info"]);
        await UnixSockets.WaitConnectableAsync(Address, _containerd, _options.StartTimeout).ConfigureAwait(false);
        await ProbeAsync(_containerd).ConfigureAwait(false);
    }

    /// <summary>
    /// One Prepare through containerd to the snapshotter, so that containerd has dialled it before any test. A socket
    /// that accepts is not yet a containerd that answers: on a loaded machine (the emulated VM beside host builds) ctr's
    /// gRPC handshake can time out while containerd still loads its plugins, so that one failure is retried until
    /// <see cref="ContainerdFixtureOptions.StartTimeout"/>; any other failure is reported at once.
    /// </summary>
    private async Task ProbeAsync(DaemonProcess containerd)
    {
        var deadline = DateTime.UtcNow + _options.StartTimeout;
        for (var attempt = 0; ; attempt++)
        {
            var result = await Ctr(ProbeNamespace).SnapshotsAsync(SnapshotterName, "prepare", ProbeKey).ConfigureAwait(false);
            bool handshake = result.ExitCode != 0 && result.StdErr.Contains("waiting for server handshake", StringComparison.Ordinal);
            bool retried = result.ExitCode != 0 && result.StdErr.Contains("already exists", StringComparison.Ordinal) && attempt > 0;
            if (!handshake || retried || DateTime.UtcNow > deadline || containerd.HasExited)
            {
                if (!retried)
                {
                    result.EnsureSuccess();
                }

                return;
            }

            await Task.Delay(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        }
    }

    public async Task DisposeAsync()
    {
        try
        {
            if (_containerd is not null)
            {
                await _containerd.StopAsync(TimeSpan.FromSeconds(15)).ConfigureAwait(false);
                _containerd.Dispose();
                _containerd = null;
            }

            KillOurShims();
            if (Snapshotter is not null)
            {
                await Snapshotter.DisposeAsync().ConfigureAwait(false);
                Snapshotter = null;
            }
        }
        finally
        {
            Mounts.UnmountAll(Directory);
            try
            {
                if (System.IO.Directory.Exists(Directory))
                {
                    System.IO.Directory.Delete(Directory, recursive: true);
                }
            }
            catch (IOException e)
            {
                Console.Error.WriteLine($"[fixture] could not delete {Directory}: {e.Message}");
            }
        }
    }

    /// <summary>The containerd config: its own dirs and socket, the proxy plugin, CRI only when the options ask for it.</summary>
    internal string ConfigToml(string snapshotterSocket) => $"""
        version = 2
        root = "{ContainerdRoot}"
        state = "{ContainerdState}"
        disabled_plugins = [
          {(CriEnabled ? "" : "\"io.containerd.grpc.v1.cri\",")}
          "io.containerd.snapshotter.v1.aufs",
          "io.containerd.snapshotter.v1.btrfs",
          "io.containerd.snapshotter.v1.devmapper",
          "io.containerd.snapshotter.v1.zfs",
        ]

        [grpc]
          address = "{Address}"

        [ttrpc]
          address = "{Address}.ttrpc"

        [debug]
          address = "{Path.Combine(Directory, "debug.sock")}"

        [metrics]
          address = ""

        [plugins."io.containerd.internal.v1.opt"]
          path = "{Path.Combine(Directory, "containerd", "opt")}"

        [proxy_plugins]
          [proxy_plugins.{ProxyName}]
            type = "snapshot"
            address = "{snapshotterSocket}"
        {CriToml()}
        """;

    /// <summary>
    /// containerd's CRI plugin for image pulls: the proxy plugin as its snapshotter with the remote-snapshot labels on
    /// (<c>disable_snapshot_annotations = false</c>), registries from the hosts directory, streaming on loopback only,
    /// CNI pointed at empty temp dirs (CRI starts without a network config; images need none).
    /// </summary>
    private string CriToml()
    {
        if (_options.CriHostsDirectory is not { } hosts)
        {
            return "";
        }

        string cni = Path.Combine(Directory, "cni");
        System.IO.Directory.CreateDirectory(Path.Combine(cni, "bin"));
        System.IO.Directory.CreateDirectory(Path.Combine(cni, "conf"));
        return $"""

            [plugins."io.containerd.grpc.v1.cri"]
              disable_tcp_service = true
              stream_server_address = "127.0.0.1"
              stream_server_port = "0"
              [plugins."io.containerd.grpc.v1.cri".containerd]
                snapshotter = "{SnapshotterName}"
                disable_snapshot_annotations = false
              [plugins."io.containerd.grpc.v1.cri".cni]
                bin_dir = "{Path.Combine(cni, "bin")}"
                conf_dir = "{Path.Combine(cni, "conf")}"
              [plugins."io.containerd.grpc.v1.cri".registry]
                config_path = "{hosts}"
            """;
    }

    /// <summary>
    /// runc shims outlive containerd by design; kill (by pid) only the ones started for THIS
    /// containerd, recognised by our unique socket path on their command line.
    /// </summary>
    private void KillOurShims()
    {
        foreach (string dir in System.IO.Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid))
            {
                continue;
            }

            string cmdline;
            try
            {
                cmdline = File.ReadAllText(Path.Combine(dir, "cmdline"));
            }
            catch (IOException)
            {
                continue;
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }

            if (cmdline.Contains("containerd-shim", StringComparison.Ordinal) && cmdline.Contains(Address, StringComparison.Ordinal))
            {
                TestLibc.Signal(pid, LibC.SIGKILL);
            }
        }
    }
}
