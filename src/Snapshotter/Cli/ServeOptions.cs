using System.CommandLine;

namespace Snapshotter.Cli;

/// <summary>
/// The configuration flags of <c>serve</c>, shared with <c>check</c> so that the same command line (and the same
/// config file and environment) can be checked before it is served.
/// </summary>
internal sealed class ServeOptions
{
    public Option<string?> Config { get; } = Flag(
        "--config",
        "FILE",
        $"JSON config file (keys: root, address, log_level, shutdown_timeout_seconds, lazy_mode, cache_dir, hosts_dir, " +
            "docker_config, domain, platform, prefetch, prefetch_rate, fetch_timeout_seconds, metrics_address, log_format). " +
            $"Default: {SnapshotterConfig.DefaultConfigPath} when it exists. Env: {ConfigLoader.ConfigEnv}.");

    public Option<string?> Root { get; } = Flag("--root", "DIR", $"State directory (metadata.db, snapshots/). Default: {SnapshotterConfig.DefaultRoot}. Env: {ConfigLoader.RootEnv.Name}.");

    public Option<string?> Address { get; } = Flag(
        "--address",
        "SOCKET",
        $"Unix socket to serve containerd's snapshots API on (mode 0660, parent dir created 0700). " +
            $"Default: {SnapshotterConfig.DefaultAddress}. Env: {ConfigLoader.AddressEnv.Name}.");

    public Option<string?> LogLevel { get; } = Flag("--log-level", "LEVEL", $"trace, debug, info, warn or error. Default: info. Env: {ConfigLoader.LogLevelEnv.Name}.");

    public Option<string?> LazyMode { get; } = Flag(
        "--lazy-mode",
        "MODE",
        "How lazily pullable images are served: auto (fscache when the kernel has cachefiles on-demand, else fuse " +
            "when it mounts EROFS from regular files (6.12+), else blob-fetch), fscache, fuse, blob-fetch (download each data blob whole at " +
            "first use, then mount) or off (unpack every layer the ordinary way); an unavailable mode falls back to the next. " +
            $"`snapshotter check` shows which one this host gets. Default: auto. Env: {ConfigLoader.LazyModeEnv.Name}.");

    public Option<string?> CacheDir { get; } = Flag("--cache-dir", "DIR", "Cache of lazily pulled data (ext4, xfs or btrfs for fscache). Default: <root>/cache.");

    public Option<string?> HostsDir { get; } = Flag("--hosts-dir", "DIR", "containerd-style registry configuration (<host>/hosts.toml: mirrors, CAs, client certificates). Default: /etc/containerd/certs.d.");

    public Option<bool?> Prefetch { get; } = new("--prefetch")
    {
        Description = "Fetch the rest of each data blob in the background once it is first read (yields to reads). Default: off.",
    };

    public Option<string?> MetricsAddress { get; } = Flag("--metrics-address", "ADDRESS", "host:port of the HTTP endpoint with Prometheus metrics (/metrics) and a liveness check (/healthz); \"\" turns it off. Default: 127.0.0.1:9110.");

    public Option<string?> LogFormat { get; } = Flag("--log-format", "FORMAT", "text or json log lines on standard output. Default: text.");

    /// <summary>A string flag: its name, the placeholder of its value in the help, and the help text.</summary>
    private static Option<string?> Flag(string name, string helpName, string description) =>
        new(name) { Description = description, HelpName = helpName };

    /// <summary>Adds every flag to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Config, Root, Address, LogLevel, LazyMode, CacheDir, HostsDir, Prefetch, MetricsAddress, LogFormat })
        {
            command.Options.Add(option);
        }
    }

    /// <summary>
    /// The effective configuration (<see cref="Load"/>), or null after writing "<paramref name="program"/>: problem" to
    /// standard error: the one place a bad configuration becomes a message (the commands then exit 2).
    /// </summary>
    public async Task<SnapshotterConfig?> TryLoadAsync(ParseResult result, string program)
    {
        try
        {
            return Load(result);
        }
        catch (ConfigException e)
        {
            await Console.Error.WriteLineAsync($"{program}: {e.Message}");
            return null;
        }
    }

    /// <summary>The effective configuration (<see cref="ConfigLoader"/>); throws <see cref="ConfigException"/> naming the problem.</summary>
    public SnapshotterConfig Load(ParseResult result) => ConfigLoader.Load(new ConfigOverrides(
        result.GetValue(Config),
        result.GetValue(Root),
        result.GetValue(Address),
        result.GetValue(LogLevel),
        result.GetValue(LazyMode),
        result.GetValue(CacheDir),
        result.GetValue(HostsDir),
        result.GetValue(Prefetch),
        result.GetValue(MetricsAddress),
        result.GetValue(LogFormat)));
}
