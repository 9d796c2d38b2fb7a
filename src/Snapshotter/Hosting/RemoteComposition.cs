using Microsoft.Extensions.Logging;
using Snapshotter.Cache.Fetching;

namespace Snapshotter.Hosting;

/// <summary>
/// Builds what the remote-snapshot path needs from the configuration: the registry client (hosts.toml, docker
/// credentials) and the lazy-image component in the configured mode. A host that cannot serve lazy images at all gets
/// none, and every layer is unpacked the ordinary way (logged): lazy pulling never stops the service.
/// </summary>
internal sealed class RemoteComposition : IAsyncDisposable
{
    private readonly RegistryClient? _client;

    private RemoteComposition(LazyFileSystem? fileSystem, RegistryClient? client)
    {
        FileSystem = fileSystem;
        _client = client;
    }

    /// <summary>The lazy-image component, or null when lazy pulling is off.</summary>
    public LazyFileSystem? FileSystem { get; }

    public static async Task<RemoteComposition> CreateAsync(SnapshotterConfig config, ILoggerFactory loggerFactory, RemoteStatistics statistics, CancellationToken cancellationToken)
    {
        var logger = loggerFactory.CreateLogger("snapshotter");
        if (!LazyModes.TryParse(config.LazyMode, out var mode, out _))
        {
            Log.LazyOff(logger, "lazy_mode is off");
            return new RemoteComposition(null, null);
        }

        var fetchTimeout = TimeSpan.FromSeconds(config.FetchTimeoutSeconds);
        var client = new RegistryClient(
            new RegistryClientOptions
            {
                HostsDirectory = config.HostsDir,
                DockerConfigPath = config.DockerConfig,
                OverallTimeout = fetchTimeout,
                AttemptTimeout = fetchTimeout < TimeSpan.FromSeconds(30) ? fetchTimeout : TimeSpan.FromSeconds(30),
                DefaultPlatform = config.Platform is { Length: > 0 } p ? Platform.Parse(p) : Platform.Default,
            },
            loggerFactory.CreateLogger<RegistryClient>());
        try
        {
            var fileSystem = await LazyFileSystem.CreateAsync(
                new LazyOptions
                {
                    Mode = mode,
                    CacheDirectory = config.CacheDir!,
                    DomainId = config.Domain,
                    Platform = config.Platform,
                    Prefetch = new PrefetchOptions { Enabled = config.Prefetch, BandwidthBytesPerSecond = config.PrefetchRate },
                },
                client,
                loggerFactory,
                SnapshotterMetrics.Shared,
                statistics,
                cancellationToken).ConfigureAwait(false);
            return new RemoteComposition(fileSystem, client);
        }
        catch (Exception e) when (e is SnapshotterException or IOException or UnauthorizedAccessException)
        {
            Log.LazyOff(logger, e.Message);
            client.Dispose();
            return new RemoteComposition(null, null);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (FileSystem is not null)
        {
            await FileSystem.DisposeAsync().ConfigureAwait(false);
        }

        _client?.Dispose();
    }
}
