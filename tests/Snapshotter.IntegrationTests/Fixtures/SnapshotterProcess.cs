namespace Snapshotter.IntegrationTests.Fixtures;

/// <summary>
/// Our real <c>snapshotter serve</c> (the built <c>snapshotter.dll</c> copied next to the tests),
/// on a given root and socket, with its logs captured.
/// </summary>
public sealed class SnapshotterProcess : IAsyncDisposable
{
    /// <summary>How long a start waits for the socket unless told otherwise.</summary>
    public static readonly TimeSpan DefaultStartTimeout = TimeSpan.FromSeconds(60);

    private readonly IReadOnlyList<string> _arguments;
    private readonly TimeSpan _startTimeout;
    private readonly string _configJson;
    private DaemonProcess _daemon;

    private SnapshotterProcess(string root, string socketPath, IReadOnlyList<string> arguments, string configJson, TimeSpan startTimeout, DaemonProcess daemon)
    {
        _startTimeout = startTimeout;
        Root = root;
        SocketPath = socketPath;
        _arguments = arguments;
        _configJson = configJson;
        _daemon = daemon;
    }

    /// <summary>The service's data root (<c>--root</c>).</summary>
    public string Root { get; }

    /// <summary>The service's unix socket (<c>--address</c>).</summary>
    public string SocketPath { get; }

    /// <summary>The current process id (changes after <see cref="RestartAsync"/>).</summary>
    public int Pid => _daemon.Pid;

    public bool HasExited => _daemon.HasExited;

    internal int LogLineCount => _daemon.LineCount;

    /// <summary>The config every fixture's daemon gets unless told otherwise: no metrics endpoint (several fixtures' daemons run side by side and would fight over the default port).</summary>
    public const string DefaultConfigJson = """{ "metrics_address": "" }""";

    /// <summary>
    /// Starts <c>snapshotter serve --config FILE --root ROOT --address SOCKET --log-level debug ARGUMENTS...</c> and waits
    /// until it accepts connections. FILE holds <paramref name="configJson"/> (<see cref="DefaultConfigJson"/> by default:
    /// a config installed on this machine must not change the tests); <paramref name="arguments"/> (e.g.
    /// <c>--lazy-mode fuse</c>) are kept for restarts, and so is <paramref name="startTimeout"/> (how long a start may take
    /// until the socket accepts connections; defaults to <see cref="DefaultStartTimeout"/>).
    /// </summary>
    public static async Task<SnapshotterProcess> StartAsync(
        string root, string socketPath, IReadOnlyList<string>? arguments = null, string configJson = DefaultConfigJson, TimeSpan? startTimeout = null,
        CancellationToken cancellationToken = default)
    {
        arguments ??= [];
        var daemon = Launch(root, socketPath, arguments, configJson);
        var process = new SnapshotterProcess(root, socketPath, arguments, configJson, startTimeout ?? DefaultStartTimeout, daemon);
        try
        {
            await UnixSockets.WaitConnectableAsync(socketPath, daemon, process._startTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await process.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return process;
    }

    /// <summary>The captured output from line <paramref name="fromLine"/> on.</summary>
    public string Logs(int fromLine = 0) => _daemon.Logs(fromLine);

    /// <summary>SIGTERM and wait (killing after a grace period); returns the exit code.</summary>
    public Task<int> StopAsync() => _daemon.StopAsync(TimeSpan.FromSeconds(20));

    /// <summary>kill -9: no chance to clean up, like a crash or an OOM kill.</summary>
    public Task KillAsync() => _daemon.KillAsync();

    /// <summary>Starts a new process on the same root and socket (after a stop or kill). Keeps the old logs.</summary>
    public async Task RestartAsync(CancellationToken cancellationToken = default)
    {
        if (!_daemon.HasExited)
        {
            throw new InvalidOperationException("stop or kill the snapshotter before restarting it");
        }

        string[] oldLines = _daemon.Lines();
        _daemon.Dispose();
        _daemon = Launch(Root, SocketPath, _arguments, _configJson, [.. oldLines, "[fixture] ---- restarting ----"]);
        await UnixSockets.WaitConnectableAsync(SocketPath, _daemon, _startTimeout, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await _daemon.StopAsync(TimeSpan.FromSeconds(20)).ConfigureAwait(false);
        _daemon.Dispose();
    }

    private static DaemonProcess Launch(string root, string socketPath, IReadOnlyList<string> arguments, string configJson, IEnumerable<string>? earlierLines = null)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "snapshotter.dll");
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"snapshotter.dll is not next to the tests ({AppContext.BaseDirectory}); the test project must reference src/Snapshotter", dll);
        }

        // An explicit config file: a config installed on this machine must not change the tests.
        string config = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(root))!, "snapshotter-config.json");
        File.WriteAllText(config, configJson);

        // The SDK tells child processes which dotnet runs the tests.
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        return DaemonProcess.Start(
            "snapshotter",
            dotnet,
            [dll, "serve", "--config", config, "--root", root, "--address", socketPath, "--log-level", "debug", .. arguments],
            earlierLines);
    }
}
