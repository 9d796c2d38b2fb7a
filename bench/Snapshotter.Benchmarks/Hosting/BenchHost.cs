using System.Diagnostics;
using System.Net.Sockets;

namespace Snapshotter.Benchmarks.Hosting;

/// <summary>
/// Starts our <c>snapshotter serve</c> and a real containerd (its own temp root, state, socket,
/// default GC settings, CRI off) with the service as proxy plugin <c>lazy</c>; tears both down.
/// </summary>
internal sealed class BenchHost : IAsyncDisposable
{
    public const string ProxyName = "lazy";

    private Process? _snapshotter;
    private Process? _containerd;

    private BenchHost(string directory)
    {
        Directory = directory;
    }

    public string Directory { get; }

    public string ContainerdAddress => Path.Combine(Directory, "containerd.sock");

    public string SnapshotterAddress => Path.Combine(Directory, "snapshotter.sock");

    public string SnapshotterRoot => Path.Combine(Directory, "snapshotter");

    public int SnapshotterPid => _snapshotter?.Id ?? throw new InvalidOperationException("not started");

    public int ContainerdPid => _containerd?.Id ?? throw new InvalidOperationException("not started");

    /// <summary>Starts containerd, and our service first unless <paramref name="startService"/> is false (harness self-check).</summary>
    /// <param name="snapshotterDll">The service's <c>snapshotter.dll</c>; null: the one next to the benchmark.</param>
    public static async Task<BenchHost> StartAsync(bool startService, string? snapshotterDll = null, CancellationToken cancellationToken = default)
    {
        var host = new BenchHost(Path.Combine("/tmp", "lzbench-" + Guid.NewGuid().ToString("N")[..8]));
        try
        {
            await host.StartCoreAsync(startService, snapshotterDll ?? Path.Combine(AppContext.BaseDirectory, "snapshotter.dll"), cancellationToken).ConfigureAwait(false);
            return host;
        }
        catch
        {
            await host.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Runs containerd's garbage collector to completion (<c>ctr leases rm --sync</c>).</summary>
    public async Task CollectGarbageAsync(CancellationToken cancellationToken = default)
    {
        string lease = (await RunAsync("ctr", ["-a", ContainerdAddress, "leases", "create"], cancellationToken).ConfigureAwait(false)).Trim();
        await RunAsync("ctr", ["-a", ContainerdAddress, "leases", "rm", "--sync", lease], cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(_containerd).ConfigureAwait(false);
        await StopAsync(_snapshotter).ConfigureAwait(false);
        var mounts = File.ReadLines("/proc/self/mountinfo")
            .Select(l => l.Split(' ')[4])
            .Where(m => m.StartsWith(Directory + "/", StringComparison.Ordinal))
            .OrderByDescending(m => m.Length);
        foreach (string m in mounts)
        {
            _ = Libc.umount2(m, Libc.MNT_DETACH);
        }

        if (System.IO.Directory.Exists(Directory))
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }

    private async Task StartCoreAsync(bool startService, string snapshotterDll, CancellationToken cancellationToken)
    {
        System.IO.Directory.CreateDirectory(Directory);
        if (startService)
        {
            await StartServiceAsync(snapshotterDll, cancellationToken).ConfigureAwait(false);
        }

        string config = Path.Combine(Directory, "containerd.toml");
        await File.WriteAllTextAsync(config, $"""
            version = 2
            root = "{Directory}/containerd/root"
            state = "{Directory}/containerd/state"
            disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]
            [grpc]
              address = "{ContainerdAddress}"
            [ttrpc]
              address = "{ContainerdAddress}.ttrpc"
            [debug]
              address = "{Directory}/debug.sock"
            [plugins."io.containerd.internal.v1.opt"]
              path = "{Directory}/containerd/opt"
            [proxy_plugins]
              [proxy_plugins.{ProxyName}]
                type = "snapshot"
                address = "{SnapshotterAddress}"
            """, cancellationToken).ConfigureAwait(false);
        _containerd = Start("containerd", ["--config", config, "--log-level", "warn"], "containerd.log");
        await WaitConnectableAsync(ContainerdAddress, _containerd, "containerd.log", cancellationToken).ConfigureAwait(false);
    }

    private async Task StartServiceAsync(string dll, CancellationToken cancellationToken)
    {
        string dotnet = Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
        _snapshotter = Start(dotnet, [dll, "serve", "--root", SnapshotterRoot, "--address", SnapshotterAddress, "--log-level", "warn"], "snapshotter.log");
        await WaitConnectableAsync(SnapshotterAddress, _snapshotter, "snapshotter.log", cancellationToken).ConfigureAwait(false);
    }

    private Process Start(string fileName, string[] args, string logName)
    {
        var psi = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {fileName}");
        var log = new StreamWriter(Path.Combine(Directory, logName)) { AutoFlush = true };
        var gate = new object();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (gate) { log.WriteLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (gate) { log.WriteLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private async Task WaitConnectableAsync(string path, Process owner, string logName, CancellationToken cancellationToken)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (owner.HasExited)
            {
                await owner.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
                throw new InvalidOperationException($"{owner.StartInfo.FileName} {string.Join(' ', owner.StartInfo.ArgumentList)} exited with {owner.ExitCode}:\n{ReadLog(logName)}");
            }

            if (File.Exists(path))
            {
                using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await s.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
                    return;
                }
                catch (SocketException)
                {
                    // Not listening yet.
                }
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }

        throw new TimeoutException($"nothing listens on {path} after 60 s:\n{ReadLog(logName)}");
    }

    private string ReadLog(string logName)
    {
        using var stream = new FileStream(Path.Combine(Directory, logName), FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return new StreamReader(stream).ReadToEnd();
    }

    private static async Task StopAsync(Process? process)
    {
        if (process is null || process.HasExited)
        {
            process?.Dispose();
            return;
        }

        _ = Libc.kill(process.Id, Libc.SIGTERM);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            await process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            await process.WaitForExitAsync().ConfigureAwait(false);
        }

        process.Dispose();
    }

    private static async Task<string> RunAsync(string fileName, string[] args, CancellationToken cancellationToken)
    {
        var psi = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {fileName}");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{fileName} {string.Join(' ', args)} exited {process.ExitCode}: {await stderr.ConfigureAwait(false)}");
        }

        return await stdout.ConfigureAwait(false);
    }
}
