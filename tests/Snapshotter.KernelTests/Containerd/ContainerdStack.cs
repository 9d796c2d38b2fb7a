using System.Diagnostics;
using Snapshotter.KernelTests.Images;
using Xunit.Abstractions;

namespace Snapshotter.KernelTests.Containerd;

/// <summary>
/// Our <c>snapshotter serve</c> as its own process and containerd 1.6 (CRI on) using it as the proxy snapshotter
/// <c>nydus</c>, against the shared guest registry, with one hosts.toml for that plain-HTTP registry read by containerd's
/// CRI (<c>config_path</c>) and by our service (<c>--hosts-dir</c>). Disposal stops both and removes every mount and
/// directory, so the next stack can bind /dev/cachefiles.
/// </summary>
internal sealed class ContainerdStack : IAsyncDisposable
{
    /// <summary>The probe snapshot containerd must reach before a restarted service counts as up.</summary>
    private const string ProbeNamespace = "probe";
    private const string ProbeKey = "probe";

    private readonly string _id = Guid.NewGuid().ToString("N")[..8];
    private int _namespaces;

    private ContainerdStack(LazyVmImages images, string lazyMode)
    {
        Images = images;
        LazyMode = lazyMode;
    }

    public LazyVmImages Images { get; }

    public string LazyMode { get; }

    /// <summary>Persistent files: containerd's root, the service's root and (ext4) cache.</summary>
    public string ScratchDir => Path.Combine(KernelEnvironment.Scratch, "ctd-" + _id);

    /// <summary>Runtime files on tmpfs: sockets, containerd's state, hosts.toml (short paths: unix sockets allow 107 bytes).</summary>
    public string RunDir => Path.Combine("/run", "ctd-" + _id);

    public string HostsDir => Path.Combine(RunDir, "certs.d");

    public ServeProcess Serve { get; private set; } = null!;

    public GuestContainerd Containerd { get; private set; } = null!;

    public GuestRegistry Registry => Images.Registry;

    /// <summary>How long starting the service and containerd took.</summary>
    public TimeSpan StartTime { get; private set; }

    /// <summary>Starts the service in <paramref name="lazyMode"/> (cache on tmpfs or on the ext4 scratch disk), then containerd.</summary>
    public static async Task<ContainerdStack> StartAsync(LazyVmImages images, string lazyMode, bool cacheOnTmpfs)
    {
        foreach (var tool in new[] { "containerd", "ctr", "ctr-remote", "runc", "containerd-shim-runc-v2" })
        {
            Assert.True(Which(tool) is not null, $"{tool} is not installed (scripts/test.sh installs containerd, runc and stargz-snapshotter)");
        }

        var stack = new ContainerdStack(images, lazyMode);
        try
        {
            await stack.StartAsync(cacheOnTmpfs);
        }
        catch
        {
            await stack.DisposeAsync();
            throw;
        }

        return stack;
    }

    public string NewNamespace(string prefix) => $"{prefix}-{Interlocked.Increment(ref _namespaces)}";

    /// <summary>Log positions of the registry, the service and containerd, to look only at what a test caused.</summary>
    public LogMark Mark() => new(Registry.LineCount, Serve.LineCount, Containerd.LineCount);

    /// <summary>Every log since <paramref name="mark"/>, for failure messages.</summary>
    public string LogsSince(LogMark mark) =>
        $"===== snapshotter serve =====\n{Serve.Logs(mark.Serve)}\n===== containerd =====\n{Containerd.Logs(mark.Containerd)}\n" +
        $"===== registry =====\n{string.Join('\n', Registry.Lines(mark.Registry))}";

    /// <summary>The EROFS mounts of lazy images (under the service's <c>mounts/</c>).</summary>
    public IReadOnlyList<MountInfo> LazyMounts() => MountInfo.Under(Serve.MountsDir).Where(m => m.FsType == "erofs").ToList();

    /// <summary>Directories left under the service's <c>mounts/</c>.</summary>
    public IReadOnlyList<string> MountDirectories() => Directory.Exists(Serve.MountsDir) ? Directory.GetDirectories(Serve.MountsDir) : [];

    /// <summary>
    /// Bytes the registry served of <paramref name="digest"/> since <paramref name="fromLine"/>, once no request has
    /// finished for 3 s (a read-ahead may still be in flight when the container exits).
    /// </summary>
    public async Task<long> SettledBlobBytesAsync(int fromLine, string digest)
    {
        var last = -1L;
        var stableSince = Stopwatch.StartNew();
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var now = RegistryAccessLog.BlobBytesServed(Registry.Lines(fromLine), digest);
            if (now != last)
            {
                last = now;
                stableSince.Restart();
            }
            else if (stableSince.Elapsed > TimeSpan.FromSeconds(3) || deadline.Elapsed > TimeSpan.FromSeconds(60))
            {
                return now;
            }

            await Task.Delay(250);
        }
    }

    /// <summary>kill -9 of the service, then a new one on the same root, cache and socket; returns once containerd reaches it.</summary>
    public async Task KillAndRestartServeAsync()
    {
        await Serve.KillAsync();
        await Serve.RestartAsync();

        // containerd reconnects to a proxy plugin with backoff; Stat of the probe goes through to the service.
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var result = await Containerd.CtrAsync(ProbeNamespace, TimeSpan.FromMinutes(3), "snapshots", "--snapshotter", GuestContainerd.ProxyName, "info", ProbeKey);
            if (result.ExitCode == 0)
            {
                return;
            }

            Assert.True(watch.Elapsed < TimeSpan.FromMinutes(3), $"containerd did not reach the restarted service within 3 min: {result}\n{Serve.Logs()}");
            await Task.Delay(500);
        }
    }

    /// <summary>Writes the stack's facts (mode, images, timings, CPU used so far) to a test's output.</summary>
    public void Describe(ITestOutputHelper output, LazyVmImage image)
    {
        output.WriteLine($"lazy-mode {LazyMode}; image {image.Reference}: data blob {image.DataBlob.Digest} of {image.DataBlob.Size} bytes " +
            $"(big file {image.BigSize} bytes); images built and converted in {Images.SmallBuildTime.TotalSeconds:0} s (small) + " +
            $"{Images.BigBuildTime.TotalSeconds:0} s (big); serve + containerd started in {StartTime.TotalSeconds:0} s");
        output.WriteLine($"CPU seconds so far: serve {ProcessCpu.Seconds(Serve.Pid):0}, containerd {ProcessCpu.Seconds(Containerd.Pid):0}, " +
            $"registry {ProcessCpu.Seconds(Registry.Pid):0}, test host {ProcessCpu.Seconds(Environment.ProcessId):0}");
    }

    public async ValueTask DisposeAsync()
    {
        if (Containerd is not null)
        {
            await Containerd.DisposeAsync();
        }

        if (Serve is not null)
        {
            await Serve.DisposeAsync();
        }

        foreach (var dir in new[] { RunDir, ScratchDir })
        {
            // Rootfs overlays and lazy mounts a failed test left: deepest first, detached.
            foreach (var mount in MountInfo.Under(dir).OrderByDescending(m => m.MountPoint.Length))
            {
                await CommandRunner.RunAsync("umount", ["-l", mount.MountPoint]);
            }

            try
            {
                if (Directory.Exists(dir))
                {
                    Directory.Delete(dir, recursive: true);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"[fixture] could not delete {dir}: {e.Message}");
            }
        }
    }

    private async Task StartAsync(bool cacheOnTmpfs)
    {
        var watch = Stopwatch.StartNew();
        Directory.CreateDirectory(ScratchDir);
        Directory.CreateDirectory(RunDir);
        var hostDir = Directory.CreateDirectory(Path.Combine(HostsDir, Registry.Host)).FullName;
        await File.WriteAllTextAsync(Path.Combine(hostDir, "hosts.toml"), $"""
            server = "http://{Registry.Host}"

            [host."http://{Registry.Host}"]
              capabilities = ["pull", "resolve"]
            """);

        var cache = cacheOnTmpfs ? Path.Combine(RunDir, "cache") : Path.Combine(ScratchDir, "cache");
        var socket = Path.Combine(RunDir, "snapshotter.sock");
        Serve = await ServeProcess.StartAsync(Path.Combine(ScratchDir, "snapshotter"), socket, LazyMode, cache, HostsDir);
        Containerd = await GuestContainerd.StartAsync(Path.Combine(ScratchDir, "containerd"), Path.Combine(RunDir, "containerd"), socket, HostsDir);
        using (var cri = new CriClient(Containerd.Address))
        {
            await cri.WaitReadyAsync(TimeSpan.FromMinutes(3));
        }

        (await Containerd.CtrAsync(ProbeNamespace, "snapshots", "--snapshotter", GuestContainerd.ProxyName, "prepare", ProbeKey)).EnsureSuccess();
        StartTime = watch.Elapsed;
    }

    private static string? Which(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':').Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);
}
