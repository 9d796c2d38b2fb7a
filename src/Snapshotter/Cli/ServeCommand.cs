using System.CommandLine;
using Snapshotter.Configuration;
using Snapshotter.Hosting;

namespace Snapshotter.Cli;

/// <summary><c>snapshotter serve</c>: runs the containerd snapshotter daemon.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var config = new Option<string?>("--config")
        {
            Description = $"JSON config file (keys: root, address, log_level, shutdown_timeout_seconds, lazy_mode, cache_dir, hosts_dir, " +
                "docker_config, domain, platform, prefetch, prefetch_rate, fetch_timeout_seconds, metrics_address, log_format). " +
                $"Default: {SnapshotterConfig.DefaultConfigPath} when it exists. Env: {ConfigLoader.ConfigEnv}.",
            HelpName = "FILE",
        };
        var root = new Option<string?>("--root")
        {
            Description = $"State directory (metadata.db, snapshots/). Default: {SnapshotterConfig.DefaultRoot}. Env: {ConfigLoader.RootEnv}.",
            HelpName = "DIR",
        };
        var address = new Option<string?>("--address")
        {
            Description = $"Unix socket to serve containerd's snapshots API on (mode 0660, parent dir created 0700). " +
                $"Default: {SnapshotterConfig.DefaultAddress}. Env: {ConfigLoader.AddressEnv}.",
            HelpName = "SOCKET",
        };
        var logLevel = new Option<string?>("--log-level")
        {
            Description = $"trace, debug, info, warn or error. Default: info. Env: {ConfigLoader.LogLevelEnv}.",
            HelpName = "LEVEL",
        };

        var lazyMode = new Option<string?>("--lazy-mode")
        {
            Description = "How lazily pullable images are served: auto (fscache when the kernel has cachefiles on-demand, else " +
                "fuse when it mounts EROFS from regular files (6.12+), else blob-fetch), fscache, fuse, blob-fetch (download each " +
                "data blob whole at first use, then mount) or off (unpack every layer the ordinary way). A mode the host cannot " +
                $"do falls back to the next one, logged. Default: auto. Env: {ConfigLoader.LazyModeEnv}.",
            HelpName = "MODE",
        };
        var cacheDir = new Option<string?>("--cache-dir")
        {
            Description = "Cache of lazily pulled data (ext4, xfs or btrfs for fscache). Default: <root>/cache.",
            HelpName = "DIR",
        };
        var hostsDir = new Option<string?>("--hosts-dir")
        {
            Description = "containerd-style registry configuration (<host>/hosts.toml: mirrors, CAs, client certificates). Default: /etc/containerd/certs.d.",
            HelpName = "DIR",
        };
        var prefetch = new Option<bool?>("--prefetch")
        {
            Description = "Fetch the rest of each data blob in the background once it is first read (yields to reads). Default: off.",
        };

        var metricsAddress = new Option<string?>("--metrics-address")
        {
            Description = "host:port of the HTTP endpoint with Prometheus metrics (/metrics) and a liveness check (/healthz); \"\" turns it off. Default: 127.0.0.1:9110.",
            HelpName = "ADDRESS",
        };
        var logFormat = new Option<string?>("--log-format")
        {
            Description = "text or json log lines on standard output. Default: text.",
            HelpName = "FORMAT",
        };

        var command = new Command(
            "serve",
            "Serve containerd's snapshots API (proxy plugin of type \"snapshot\") on a unix socket. Ordinary images are unpacked " +
            "onto overlayfs; lazily pullable images (converted with `snapshotter convert`, pulled with CRI or ctr-remote images " +
            "rpull) take containerd's remote-snapshot path and are mounted lazily (see --lazy-mode). " +
            "Settings come from defaults, then the config file, then SNAPSHOTTER_* environment variables, then flags. " +
            "SIGTERM/SIGINT finish in-flight calls, remove the socket and exit 0.")
        {
            config, root, address, logLevel, lazyMode, cacheDir, hostsDir, prefetch, metricsAddress, logFormat,
        };
        command.SetAction(async (ParseResult result, CancellationToken cancellationToken) =>
        {
            SnapshotterConfig effective;
            try
            {
                effective = ConfigLoader.Load(new ConfigOverrides(
                    result.GetValue(config),
                    result.GetValue(root),
                    result.GetValue(address),
                    result.GetValue(logLevel),
                    result.GetValue(lazyMode),
                    result.GetValue(cacheDir),
                    result.GetValue(hostsDir),
                    result.GetValue(prefetch),
                    result.GetValue(metricsAddress),
                    result.GetValue(logFormat)));
            }
            catch (ConfigException e)
            {
                await Console.Error.WriteLineAsync($"snapshotter: {e.Message}");
                return 2;
            }

            try
            {
                return await ServiceHost.RunAsync(effective, cancellationToken);
            }
            catch (ConfigException e)
            {
                await Console.Error.WriteLineAsync($"snapshotter: {e.Message}");
                return 2;
            }
        });
        return command;
    }
}
