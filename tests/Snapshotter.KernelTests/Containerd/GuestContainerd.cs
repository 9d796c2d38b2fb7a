using System.Diagnostics;
using System.Net.Sockets;
using Tmds.Linux;

namespace Snapshotter.KernelTests.Containerd;

/// <summary>
/// Real containerd 1.6 inside the guest: root on the ext4 scratch disk, state and sockets on /run, the CRI plugin on
/// (<c>disable_snapshot_annotations = false</c>, snapshotter <see cref="ProxyName"/>, registry hosts from
/// <c>config_path</c>), and our service as the proxy snapshot plugin <see cref="ProxyName"/>.
/// </summary>
internal sealed class GuestContainerd : IAsyncDisposable
{
    /// <summary>The proxy plugin name: nerdctl adds remote-snapshot labels only for names like this one.</summary>
    public const string ProxyName = "nydus";

    /// <summary>The namespace the CRI plugin keeps its images in.</summary>
    public const string CriNamespace = "k8s.io";

    private readonly DaemonProcess _process;

    private GuestContainerd(string stateDir, DaemonProcess process)
    {
        StateDir = stateDir;
        _process = process;
    }

    public string StateDir { get; }

    public string Address => Path.Combine(StateDir, "containerd.sock");

    public string Logs(int fromLine = 0) => _process.Logs(fromLine);

    public int LineCount => _process.LineCount;

    public int Pid => _process.Pid;

    public static async Task<GuestContainerd> StartAsync(string rootDir, string stateDir, string snapshotterSocket, string hostsDir)
    {
        Directory.CreateDirectory(rootDir);
        Directory.CreateDirectory(stateDir);
        var config = Path.Combine(stateDir, "containerd.toml");
        await File.WriteAllTextAsync(config, Config(rootDir, stateDir, snapshotterSocket, hostsDir));
        var process = DaemonProcess.Start("containerd", "containerd", ["--config", config, "--log-level", "info"]);
        var containerd = new GuestContainerd(stateDir, process);
        try
        {
            await WaitConnectableAsync(containerd.Address, process, TimeSpan.FromMinutes(3));
        }
        catch
        {
            await containerd.DisposeAsync();
            throw;
        }

        return containerd;
    }

    /// <summary><c>ctr -a ADDRESS -n NAMESPACE args...</c>.</summary>
    public Task<CommandResult> CtrAsync(string @namespace, params string[] args) => CtrAsync(@namespace, CommandRunner.DefaultTimeout, args);

    public Task<CommandResult> CtrAsync(string @namespace, TimeSpan timeout, params string[] args) =>
        CommandRunner.RunAsync("ctr", ["-a", Address, "-n", @namespace, .. args], timeout);

    /// <summary><c>ctr-remote images rpull</c>: containerd's unpacker with stargz-style remote-snapshot labels.</summary>
    public Task<CommandResult> RpullAsync(string @namespace, string reference, TimeSpan timeout) =>
        CommandRunner.RunAsync("ctr-remote", ["-a", Address, "-n", @namespace, "images", "rpull", "--snapshotter", ProxyName, "--plain-http", reference], timeout);

    /// <summary>Runs a container of <paramref name="reference"/> to its end and returns what it printed (ctr's exit code is the container's).</summary>
    public Task<CommandResult> RunAsync(string @namespace, string reference, string id, string script, TimeSpan timeout) =>
        CtrAsync(@namespace, timeout, "run", "--rm", "--snapshotter", ProxyName, reference, id, "/bin/sh", "-c", script);

    /// <summary>Starts a container in the background (no stdio), running <paramref name="script"/>.</summary>
    public Task<CommandResult> RunDetachedAsync(string @namespace, string reference, string id, string script, TimeSpan timeout) =>
        CtrAsync(@namespace, timeout, "run", "-d", "--null-io", "--snapshotter", ProxyName, reference, id, "/bin/sh", "-c", script);

    /// <summary>Kills and deletes a container's task, then the container and its snapshot (a container already gone is fine).</summary>
    public async Task RemoveContainerAsync(string @namespace, string id)
    {
        await CtrAsync(@namespace, "tasks", "rm", "-f", id);
        var removed = await CtrAsync(@namespace, "containers", "rm", id);
        if (removed.ExitCode != 0 && !removed.StdErr.Contains("not found", StringComparison.Ordinal))
        {
            removed.EnsureSuccess();
        }
    }

    /// <summary>Deletes every image of <paramref name="namespace"/> (<c>--sync</c>: garbage collected before it returns), then runs the collector once more.</summary>
    public async Task RemoveImagesAsync(string @namespace)
    {
        var names = (await CtrAsync(@namespace, "images", "ls", "-q")).EnsureSuccess().StdOut
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (names.Length > 0)
        {
            (await CtrAsync(@namespace, ["images", "rm", "--sync", .. names])).EnsureSuccess();
        }

        await CollectGarbageAsync();
    }

    /// <summary>Runs containerd's garbage collector to completion (deleting a fresh lease with <c>--sync</c>).</summary>
    public async Task CollectGarbageAsync()
    {
        var lease = (await CtrAsync("default", "leases", "create")).EnsureSuccess().StdOut.Trim();
        (await CtrAsync("default", "leases", "rm", "--sync", lease)).EnsureSuccess();
    }

    /// <summary>Snapshot names containerd lists for <paramref name="namespace"/> on our snapshotter.</summary>
    public async Task<IReadOnlyList<string>> SnapshotsAsync(string @namespace)
    {
        var output = (await CtrAsync(@namespace, "snapshots", "--snapshotter", ProxyName, "ls")).EnsureSuccess().StdOut;
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0]).ToList();
    }

    public async ValueTask DisposeAsync()
    {
        await _process.StopAsync(TimeSpan.FromSeconds(30));
        _process.Dispose();
        KillShims();
    }

    private static string Config(string rootDir, string stateDir, string snapshotterSocket, string hostsDir) => $"""
        version = 2
        root = "{rootDir}"
        state = "{stateDir}"
        disabled_plugins = [
          "io.containerd.snapshotter.v1.aufs",
          "io.containerd.snapshotter.v1.btrfs",
          "io.containerd.snapshotter.v1.devmapper",
          "io.containerd.snapshotter.v1.zfs",
        ]

        [grpc]
          address = "{Path.Combine(stateDir, "containerd.sock")}"

        [ttrpc]
          address = "{Path.Combine(stateDir, "containerd.sock.ttrpc")}"

        [debug]
          address = "{Path.Combine(stateDir, "debug.sock")}"

        [metrics]
          address = ""

        [plugins."io.containerd.internal.v1.opt"]
          path = "{Path.Combine(rootDir, "opt")}"

        [plugins."io.containerd.grpc.v1.cri"]
          sandbox_image = "registry.invalid/pause:3.6"
          disable_apparmor = true
          [plugins."io.containerd.grpc.v1.cri".containerd]
            snapshotter = "{ProxyName}"
            disable_snapshot_annotations = false
          [plugins."io.containerd.grpc.v1.cri".registry]
            config_path = "{hostsDir}"
          [plugins."io.containerd.grpc.v1.cri".cni]
            bin_dir = "{Path.Combine(stateDir, "cni-bin")}"
            conf_dir = "{Path.Combine(stateDir, "cni-conf")}"

        [proxy_plugins]
          [proxy_plugins.{ProxyName}]
            type = "snapshot"
            address = "{snapshotterSocket}"
        """;

    internal static async Task WaitConnectableAsync(string socketPath, DaemonProcess process, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{process.Name} exited before listening on {socketPath}:\n{process.Logs()}");
            }

            if (File.Exists(socketPath))
            {
                try
                {
                    using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath));
                    return;
                }
                catch (SocketException)
                {
                    // Not listening yet.
                }
            }

            if (watch.Elapsed > timeout)
            {
                throw new TimeoutException($"{process.Name} did not listen on {socketPath} within {timeout}:\n{process.Logs()}");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>runc shims outlive containerd by design: kill (by pid) the ones started for this containerd.</summary>
    private void KillShims()
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline"));
                if (cmdline.Contains("containerd-shim", StringComparison.Ordinal) && cmdline.Contains(Address, StringComparison.Ordinal))
                {
                    _ = LibC.kill(pid, LibC.SIGKILL);
                }
            }
            catch (IOException)
            {
                // Gone meanwhile.
            }
        }
    }
}
