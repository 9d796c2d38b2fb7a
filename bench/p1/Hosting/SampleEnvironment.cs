using System.Diagnostics;
using Snapshotter.P1.Benchmarks.Interop;

namespace Snapshotter.P1.Benchmarks.Hosting;

/// <summary>
/// A fresh containerd 1.6 and a fresh <c>snapshotter serve</c> (proxy plugin <c>nydus</c>) on new root directories, for
/// one sample: nothing pulled, nothing cached, no connection open. The service answers one Prepare (a probe snapshot
/// in another namespace) before the sample starts, so containerd's connection to it is up. Removed on dispose.
/// </summary>
internal sealed class SampleEnvironment : IAsyncDisposable
{
    public const string Namespace = "p1";
    public const string LazySnapshotter = "nydus";

    private readonly string _state;
    private ChildProcess? _containerd;
    private ChildProcess? _serve;

    private SampleEnvironment(string directory, string state)
    {
        Directory = directory;
        _state = state;
    }

    public string Directory { get; }

    public string ContainerdAddress => Path.Combine(_state, "containerd.sock");

    public string SnapshotterAddress => Path.Combine(_state, "snapshotter.sock");

    public string ServeLog => Path.Combine(Directory, "serve.log");

    public int ServePid => _serve?.Pid ?? 0;

    public int ContainerdPid => _containerd?.Pid ?? 0;

    /// <param name="directory">Roots of containerd and the service (ext4 in the VM: fscache needs it).</param>
    /// <param name="state">containerd's state and both sockets (short paths).</param>
    public static async Task<SampleEnvironment> StartAsync(string directory, string state, P1Options options, CancellationToken cancellationToken = default)
    {
        var env = new SampleEnvironment(directory, state);
        try
        {
            await env.StartCoreAsync(options, cancellationToken).ConfigureAwait(false);
            return env;
        }
        catch
        {
            await env.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The devices (<c>major:minor</c>) of this sample's mounts of <paramref name="fsType"/> (fuse*, erofs) now.</summary>
    public List<string> Devices(string fsType) =>
        [.. File.ReadLines("/proc/self/mountinfo").Select(l => l.Split(' '))
            .Where(f => f[4].StartsWith(Directory + "/", StringComparison.Ordinal)
                && f.SkipWhile(x => x != "-").Skip(1).FirstOrDefault() is { } type && type.StartsWith(fsType, StringComparison.Ordinal))
            .Select(f => f[2])];

    /// <summary>Arguments for <c>ctr</c>/<c>ctr-remote</c> on this containerd, in the benchmark's namespace.</summary>
    public string[] Ctr(params string[] args) => ["-a", ContainerdAddress, "-n", Namespace, .. args];

    public async ValueTask DisposeAsync()
    {
        if (_containerd is not null)
        {
            await _containerd.DisposeAsync().ConfigureAwait(false);
        }

        KillShims();
        if (_serve is not null)
        {
            await _serve.DisposeAsync().ConfigureAwait(false);
        }

        DetachMounts(Directory);
        DetachMounts(_state);
        foreach (var dir in new[] { Directory, _state })
        {
            try
            {
                if (System.IO.Directory.Exists(dir))
                {
                    System.IO.Directory.Delete(dir, recursive: true);
                }
            }
            catch (IOException e)
            {
                Console.Error.WriteLine($"p1: could not delete {dir}: {e.Message}");
            }
        }
    }

    private async Task StartCoreAsync(P1Options options, CancellationToken cancellationToken)
    {
        System.IO.Directory.CreateDirectory(Directory);
        System.IO.Directory.CreateDirectory(_state);
        var hosts = System.IO.Directory.CreateDirectory(Path.Combine(Directory, "hosts")).FullName;
        _serve = ChildProcess.Start(
            "dotnet",
            [options.SnapshotterDll, "serve", "--root", Path.Combine(Directory, "snapshotter"), "--address", SnapshotterAddress,
                "--lazy-mode", options.LazyMode, "--hosts-dir", hosts, "--log-level", options.ServeLogLevel],
            ServeLog,
            options.ServeEnvironment);
        await Waiting.ForUnixAsync(SnapshotterAddress, _serve, cancellationToken).ConfigureAwait(false);

        var config = Path.Combine(Directory, "containerd.toml");
        await File.WriteAllTextAsync(config, $"""
            version = 2
            root = "{Directory}/containerd"
            state = "{_state}/containerd"
            disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]
            [grpc]
              address = "{ContainerdAddress}"
            [ttrpc]
              address = "{ContainerdAddress}.ttrpc"
            [debug]
              address = "{_state}/debug.sock"
            [metrics]
              address = ""
            [plugins."io.containerd.internal.v1.opt"]
              path = "{Directory}/opt"
            [proxy_plugins]
              [proxy_plugins.{LazySnapshotter}]
                type = "snapshot"
                address = "{SnapshotterAddress}"
            """, cancellationToken).ConfigureAwait(false);
        _containerd = ChildProcess.Start("containerd", ["--config", config, "--log-level", "info"], Path.Combine(Directory, "containerd.log"));
        await Waiting.ForUnixAsync(ContainerdAddress, _containerd, cancellationToken).ConfigureAwait(false);

        // containerd dials the proxy plugin lazily; one Prepare through it proves the path (and warms the service's
        // gRPC and SQLite code, as a long-running daemon would be). It stays, in its own namespace.
        var sw = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await Tool.RunAsync("ctr", ["-a", ContainerdAddress, "-n", "p1-probe", "snapshots", "--snapshotter", LazySnapshotter, "prepare", "probe"], cancellationToken).ConfigureAwait(false);
                break;
            }
            catch (InvalidOperationException) when (sw.Elapsed < TimeSpan.FromSeconds(120))
            {
                await Task.Delay(200, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>runc shims outlive containerd: kill (by pid) only those started for this containerd (its socket is on their command line).</summary>
    private void KillShims()
    {
        foreach (var dir in System.IO.Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline"));
                if (cmdline.Contains("containerd-shim", StringComparison.Ordinal) && cmdline.Contains(ContainerdAddress, StringComparison.Ordinal))
                {
                    Libc.Kill(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Gone.
            }
        }
    }

    private static void DetachMounts(string under)
    {
        var mounts = File.ReadLines("/proc/self/mountinfo")
            .Select(l => l.Split(' ')[4].Replace("\\040", " ", StringComparison.Ordinal))
            .Where(m => m.StartsWith(under + "/", StringComparison.Ordinal))
            .OrderByDescending(m => m.Length)
            .ToList();
        foreach (var m in mounts)
        {
            _ = Libc.DetachMount(m);
        }
    }
}
