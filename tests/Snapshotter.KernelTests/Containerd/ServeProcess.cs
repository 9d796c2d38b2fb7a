namespace Snapshotter.KernelTests.Containerd;

/// <summary>
/// Our real <c>snapshotter serve</c> as its own process (<c>dotnet snapshotter.dll serve ...</c>, the built dll next to
/// the tests), with its log lines kept across restarts so a test can look for what the service said.
/// </summary>
internal sealed class ServeProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);
    private readonly string[] _arguments;
    private DaemonProcess _daemon;

    private ServeProcess(string root, string socketPath, string[] arguments, DaemonProcess daemon)
    {
        Root = root;
        SocketPath = socketPath;
        _arguments = arguments;
        _daemon = daemon;
    }

    public string Root { get; }

    public string SocketPath { get; }

    /// <summary>Where the service mounts lazy images (<c>&lt;root&gt;/mounts/&lt;id&gt;</c>).</summary>
    public string MountsDir => Path.Combine(Root, "mounts");

    public int LineCount => _daemon.LineCount;

    public int Pid => _daemon.Pid;

    public bool HasExited => _daemon.HasExited;

    public string[] Lines(int fromLine = 0) => _daemon.Lines(fromLine);

    public string Logs(int fromLine = 0) => _daemon.Logs(fromLine);

    /// <summary>Starts <c>serve --root ROOT --address SOCKET --lazy-mode MODE --cache-dir CACHE --hosts-dir HOSTS</c> and waits until it listens.</summary>
    public static async Task<ServeProcess> StartAsync(string root, string socketPath, string lazyMode, string cacheDir, string hostsDir)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "snapshotter.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: the test project must reference src/Snapshotter");
        Directory.CreateDirectory(root);

        // An explicit config file: a config installed on the machine must not change the tests. Registry calls get 5
        // minutes instead of 1: the emulated guest JIT-compiles the first HEAD's whole HTTP stack for longer than 30 s.
        var config = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(root))!, "serve-config.json");
        await File.WriteAllTextAsync(config, """{ "fetch_timeout_seconds": 300 }""");
        string[] arguments =
        [
            dll, "serve", "--config", config, "--root", root, "--address", socketPath, "--log-level", "debug",
            "--lazy-mode", lazyMode, "--cache-dir", cacheDir, "--hosts-dir", hostsDir,
        ];
        var serve = new ServeProcess(root, socketPath, arguments, Launch(arguments, null));
        try
        {
            await GuestContainerd.WaitConnectableAsync(socketPath, serve._daemon, StartTimeout);
        }
        catch
        {
            await serve.DisposeAsync();
            throw;
        }

        return serve;
    }

    /// <summary>kill -9: no chance to unmount or unbind, like a crash or an OOM kill.</summary>
    public Task KillAsync() => _daemon.KillAsync();

    /// <summary>Starts a new process with the same arguments (root, socket, cache) after a kill; keeps the earlier log lines.</summary>
    public async Task RestartAsync()
    {
        Assert.True(_daemon.HasExited, "kill the service before restarting it");
        var earlier = _daemon.Lines();
        _daemon.Dispose();
        _daemon = Launch(_arguments, [.. earlier, "[fixture] ---- restarting ----"]);
        await GuestContainerd.WaitConnectableAsync(SocketPath, _daemon, StartTimeout);
    }

    public async ValueTask DisposeAsync()
    {
        // SIGTERM unmounts lazy images and stops the cachefiles daemon: the next fixture can bind /dev/cachefiles.
        await _daemon.StopAsync(TimeSpan.FromSeconds(60));
        _daemon.Dispose();
    }

    private static DaemonProcess Launch(string[] arguments, IEnumerable<string>? earlier)
    {
        // The test host tells child processes which dotnet runs the tests.
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        return DaemonProcess.Start("snapshotter serve", dotnet, arguments, earlier);
    }
}
