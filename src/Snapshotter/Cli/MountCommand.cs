using System.CommandLine;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Snapshotter.Cache.Fetching;
using Snapshotter.Cache.Metrics;
using Snapshotter.Cachefiles.Daemon;
using Snapshotter.Cachefiles.Images;
using Snapshotter.Configuration;
using Snapshotter.Registry;

namespace Snapshotter.Cli;

/// <summary>
/// <c>snapshotter mount REF MOUNTPOINT</c>: resolves a lazily pullable image, downloads its bootstrap, starts the
/// on-demand cache daemon, mounts EROFS over fscache and serves reads from the registry until SIGTERM/SIGINT.
/// </summary>
internal static class MountCommand
{
    public const string DefaultCacheDirectory = "/var/lib/containerd-lazy-snapshotter/cache";

    public static Command Create()
    {
        var reference = new Argument<string>("REF") { Description = "Lazily pullable image (converted with `snapshotter convert`), e.g. registry.example.com/app:v1-lazy" };
        var mountPoint = new Argument<string>("MOUNTPOINT") { Description = "Existing directory to mount the image's filesystem on (read-only)" };
        var cacheDir = new Option<string>("--cache-dir")
        {
            Description = $"Cache directory on ext4/xfs/btrfs (not tmpfs): cachefiles data under fscache/, bootstraps under work/. Default: {DefaultCacheDirectory}",
            HelpName = "DIR",
            DefaultValueFactory = _ => DefaultCacheDirectory,
        };
        var prefetch = new Option<bool>("--prefetch") { Description = "After a data blob is opened, fetch the rest of it in the background (yields to reads)" };
        var prefetchRate = new Option<long>("--prefetch-rate") { Description = "Prefetch bandwidth cap in bytes/s (0 = unlimited)", HelpName = "BYTES" };
        var domain = new Option<string>("--domain") { Description = "fscache domain shared by images (one cache object per data blob)", DefaultValueFactory = _ => "lazysnap" };
        var fetchDefaults = new ChunkFetcherOptions();
        var amplify = new Option<int>("--amplify") { Description = "Amplify small reads to this many stored bytes per Range GET (0 = off)", DefaultValueFactory = _ => fetchDefaults.AmplifyWindow, HelpName = "BYTES" };
        var readahead = new Option<int>("--readahead")
        {
            Description = "When reads are sequential, fetch this many further stored bytes in the background (0 = off)",
            DefaultValueFactory = _ => fetchDefaults.ReadaheadWindow,
            HelpName = "BYTES",
        };
        var maxRequest = new Option<int>("--max-request")
        {
            Description = "Largest Range GET in stored bytes; longer runs of chunks are split into requests fetched in parallel",
            DefaultValueFactory = _ => fetchDefaults.MaxRequestSize,
            HelpName = "BYTES",
        };
        var platform = new Option<string?>("--platform") { Description = "Platform to pick from an index (os/arch[/variant]); default linux/amd64" };
        var hostsDir = new Option<string>("--hosts-dir") { Description = "containerd-style hosts.toml directory", DefaultValueFactory = _ => "/etc/containerd/certs.d", HelpName = "DIR" };
        var fetchTimeout = new Option<double>("--fetch-timeout")
        {
            Description = "Give up on a registry fetch (all retries) after this many seconds; the reading process then gets EIO",
            DefaultValueFactory = _ => 60,
            HelpName = "SECONDS",
        };
        var logLevel = new Option<string>("--log-level") { Description = "trace, debug, info, warn or error", DefaultValueFactory = _ => "info" };
        var command = new Command("mount", "Mount a lazily pullable image over EROFS + fscache and serve its reads from the registry until SIGTERM/SIGINT (then unmount). Needs a kernel with cachefiles on-demand (CONFIG_CACHEFILES_ONDEMAND, CONFIG_EROFS_FS_ONDEMAND).")
        {
            reference, mountPoint, cacheDir, prefetch, prefetchRate, domain, amplify, readahead, maxRequest, platform, hostsDir, fetchTimeout, logLevel,
        };
        command.SetAction((ParseResult result, CancellationToken cancellationToken) => RunAsync(
            result.GetValue(reference)!,
            result.GetValue(mountPoint)!,
            result.GetValue(cacheDir)!,
            new PrefetchOptions { Enabled = result.GetValue(prefetch), BandwidthBytesPerSecond = result.GetValue(prefetchRate) },
            result.GetValue(domain),
            new ChunkFetcherOptions
            {
                AmplifyWindow = result.GetValue(amplify),
                ReadaheadWindow = result.GetValue(readahead),
                MaxRequestSize = result.GetValue(maxRequest),
            },
            result.GetValue(platform),
            result.GetValue(hostsDir)!,
            TimeSpan.FromSeconds(result.GetValue(fetchTimeout)),
            result.GetValue(logLevel)!));
        return command;
    }

    private static async Task<int> RunAsync(
        string reference, string mountPoint, string cacheDir, PrefetchOptions prefetch, string? domain, ChunkFetcherOptions fetch,
        string? platform, string hostsDir, TimeSpan fetchTimeout, string logLevel)
    {
        if (!ImageReference.TryParse(reference, out var image, out var error))
        {
            await Console.Error.WriteLineAsync($"snapshotter mount: {error}");
            return 2;
        }

        if (!Directory.Exists(mountPoint))
        {
            await Console.Error.WriteLineAsync($"snapshotter mount: mount point {mountPoint} is not a directory");
            return 2;
        }

        if (fetchTimeout <= TimeSpan.Zero || fetch.AmplifyWindow < 0 || fetch.ReadaheadWindow < 0 || fetch.MaxRequestSize <= 0)
        {
            await Console.Error.WriteLineAsync("snapshotter mount: --fetch-timeout and --max-request must be positive, --amplify and --readahead not negative");
            return 2;
        }

        using var loggerFactory = LoggerFactory.Create(b => b
            .SetMinimumLevel(ConfigLoader.ToLogLevel(logLevel))
            .AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            })
            // Standard output carries only "mounted <dir>", for scripts; logs go to standard error.
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));
        var logger = loggerFactory.CreateLogger("snapshotter.mount");
        var fscache = Directory.CreateDirectory(Path.Combine(cacheDir, "fscache")).FullName;
        var work = Directory.CreateDirectory(Path.Combine(cacheDir, "work")).FullName;
        using var stop = new CancellationTokenSource();
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });

        var registryOptions = new RegistryClientOptions
        {
            HostsDirectory = hostsDir,
            OverallTimeout = fetchTimeout,
            AttemptTimeout = fetchTimeout < TimeSpan.FromSeconds(30) ? fetchTimeout : TimeSpan.FromSeconds(30),
        };
        using var client = new RegistryClient(registryOptions, loggerFactory.CreateLogger<RegistryClient>());
        var objects = new CacheObjectRegistry();
        var metrics = LazyMetrics.Shared;
        var manager = new LazyImageManager(
            client,
            objects,
            new LazyImageOptions
            {
                WorkDirectory = work,
                DomainId = string.IsNullOrEmpty(domain) ? null : domain,
                Platform = platform,
                Fetch = fetch,
                Prefetch = prefetch,
            },
            loggerFactory,
            metrics);

        OnDemandDaemon daemon;
        try
        {
            daemon = OnDemandDaemon.Start(new OnDemandDaemonOptions { CacheDirectory = fscache }, objects, loggerFactory.CreateLogger("snapshotter.cachefiles"), metrics);
        }
        catch (OnDemandUnsupportedException e)
        {
            await Console.Error.WriteLineAsync($"snapshotter mount: {e.Message}");
            return 2;
        }

        await using (daemon)
        {
            LazyMount mount;
            try
            {
                mount = await manager.MountAsync(image, Path.GetFullPath(mountPoint), stop.Token);
            }
            catch (Exception e) when (e is LazyImageException or RegistryException or IOException)
            {
                await Console.Error.WriteLineAsync($"snapshotter mount: {image}: {e.Message}");
                return 1;
            }
            catch (OperationCanceledException)
            {
                return 1;
            }

            await using (mount)
            {
                Console.WriteLine($"mounted {mount.MountPoint}");
                try
                {
                    await Task.Delay(Timeout.Infinite, stop.Token);
                }
                catch (OperationCanceledException)
                {
                    // SIGTERM/SIGINT: unmount, then stop the daemon.
                }

                Log.Unmounting(logger, mount.MountPoint, metrics.ReadRequestCount, metrics.FetchedByteCount);
            }
        }

        return 0;
    }
}
