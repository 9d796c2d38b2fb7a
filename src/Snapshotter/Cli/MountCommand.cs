using System.CommandLine;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Snapshotter.Cache.Fetching;

namespace Snapshotter.Cli;

/// <summary>
/// <c>snapshotter mount REF MOUNTPOINT</c>: a thin user of the lazy-image component the service uses. Resolves a lazily
/// pullable image from its registry, downloads its bootstrap, mounts it read-only (fscache on-demand when the kernel has
/// it, else blob-fetch) and serves its reads until SIGTERM/SIGINT, then unmounts.
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
            Description = $"Cache directory on ext4/xfs/btrfs (not tmpfs): cachefiles data under fscache/, downloaded blobs under blobs/, bootstraps under bootstraps/. Default: {DefaultCacheDirectory}",
            HelpName = "DIR",
            DefaultValueFactory = _ => DefaultCacheDirectory,
        };
        var mode = new Option<string>("--lazy-mode")
        {
            Description = "auto (fscache when the kernel has cachefiles on-demand, else fuse when it mounts EROFS from files, else blob-fetch), fscache or fuse (fail if unavailable), or blob-fetch (download each data blob whole, then mount)",
            DefaultValueFactory = _ => "auto",
            HelpName = "MODE",
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
        var command = new Command(
            "mount",
            "Mount a lazily pullable image read-only and serve its reads from the registry until SIGTERM/SIGINT (then unmount). " +
            "Uses EROFS over fscache on kernels with cachefiles on-demand (CONFIG_CACHEFILES_ONDEMAND, CONFIG_EROFS_FS_ONDEMAND), " +
            "else serves the data blobs as FUSE files and mounts EROFS from them (Linux 6.12+), else downloads the data blobs whole " +
            "and mounts EROFS from the local files (`snapshotter check` shows which). Prints \"mounted DIR\" when ready. " +
            "The bootstrap download's progress goes to standard error: a live line on a terminal, one line otherwise.")
        {
            reference, mountPoint, cacheDir, mode, prefetch, prefetchRate, domain, amplify, readahead, maxRequest, platform, hostsDir, fetchTimeout, logLevel,
        };
        command.SetAction((ParseResult result, CancellationToken cancellationToken) => RunAsync(
            result.GetValue(reference)!,
            result.GetValue(mountPoint)!,
            result.GetValue(mode)!,
            new LazyOptions
            {
                CacheDirectory = result.GetValue(cacheDir)!,
                DomainId = result.GetValue(domain) is { Length: > 0 } d ? d : "lazysnap",
                Platform = result.GetValue(platform),
                Prefetch = new PrefetchOptions { Enabled = result.GetValue(prefetch), BandwidthBytesPerSecond = result.GetValue(prefetchRate) },
                Fetch = new ChunkFetcherOptions
                {
                    AmplifyWindow = result.GetValue(amplify),
                    ReadaheadWindow = result.GetValue(readahead),
                    MaxRequestSize = result.GetValue(maxRequest),
                },
                FallBackWhenUnavailable = false,
            },
            result.GetValue(hostsDir)!,
            TimeSpan.FromSeconds(result.GetValue(fetchTimeout)),
            result.GetValue(logLevel)!));
        return command;
    }

    private static async Task<int> RunAsync(string reference, string mountPoint, string modeName, LazyOptions options, string hostsDir, TimeSpan fetchTimeout, string logLevel)
    {
        if (!ImageReference.TryParse(reference, out var image, out var error))
        {
            return await FailAsync(2, error);
        }

        if (!LazyModes.TryParse(modeName, out var mode, out var modeError))
        {
            return await FailAsync(2, modeError ?? "--lazy-mode off cannot mount anything");
        }

        if (!Directory.Exists(mountPoint))
        {
            return await FailAsync(2, $"mount point {mountPoint} is not a directory");
        }

        if (fetchTimeout <= TimeSpan.Zero || options.Fetch.AmplifyWindow < 0 || options.Fetch.ReadaheadWindow < 0 || options.Fetch.MaxRequestSize <= 0)
        {
            return await FailAsync(2, "--fetch-timeout and --max-request must be positive, --amplify and --readahead not negative");
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
        using var stop = new CancellationTokenSource();
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });

        using var client = new RegistryClient(
            new RegistryClientOptions
            {
                HostsDirectory = hostsDir,
                OverallTimeout = fetchTimeout,
                AttemptTimeout = fetchTimeout < TimeSpan.FromSeconds(30) ? fetchTimeout : TimeSpan.FromSeconds(30),
            },
            loggerFactory.CreateLogger<RegistryClient>());
        var metrics = SnapshotterMetrics.Shared;
        LazyFileSystem lazy;
        try
        {
            lazy = await LazyFileSystem.CreateAsync(new LazyOptions
            {
                Mode = mode,
                CacheDirectory = options.CacheDirectory,
                DomainId = options.DomainId,
                Platform = options.Platform,
                Prefetch = options.Prefetch,
                Fetch = options.Fetch,
                FallBackWhenUnavailable = false,
            }, client, loggerFactory, metrics, cancellationToken: stop.Token);
        }
        catch (SnapshotterException e)
        {
            return await FailAsync(2, e.Message);
        }

        await using (lazy)
        {
            var target = Path.GetFullPath(mountPoint);
            try
            {
                RemoteImage remote;
                using (var renderer = ProgressRenderer.ForStandardError())
                {
                    // The bootstrap download (skipped when cached): a live line on a terminal, one line when redirected.
                    remote = await lazy.ResolveImageAsync(
                        image, new SynchronousProgress<DownloadProgress>(p => renderer.Report(ShortName(p.Name), p.BytesDone, p.TotalBytes)), stop.Token);
                }

                await lazy.MountAsync(remote, target, stop.Token);
            }
            catch (SnapshotterException e)
            {
                return await FailAsync(1, $"{image}: {e.Message}");
            }
            catch (OperationCanceledException)
            {
                return 1;
            }

            Console.WriteLine($"mounted {target}");
            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token);
            }
            catch (OperationCanceledException)
            {
                // SIGTERM/SIGINT: unmount, then stop the daemon.
            }

            Log.Unmounting(logger, target, metrics.ReadRequestCount, metrics.FetchedByteCount);
            await lazy.UnmountAsync(target);
        }

        return 0;
    }

    /// <summary><c>bootstrap sha256:0123456789ab</c>: a digest cut to 12 hex digits, enough to tell layers apart on one line.</summary>
    private static string ShortName(string name)
    {
        var at = name.IndexOf("sha256:", StringComparison.Ordinal);
        return at >= 0 && name.Length > at + 7 + 12 ? name[..(at + 7 + 12)] : name;
    }

    private static async Task<int> FailAsync(int exitCode, string message)
    {
        await Console.Error.WriteLineAsync($"snapshotter mount: {message}");
        return exitCode;
    }
}
