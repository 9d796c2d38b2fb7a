using Microsoft.Extensions.Logging;
using Snapshotter.Telemetry;
using Snapshotter.Core.Remote;
using Snapshotter.KernelTests;
using Snapshotter.Registry;
using Snapshotter.Registry.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Snapshotter.Lazy.Tests.Infrastructure;

/// <summary>
/// A <see cref="LazyFileSystem"/> on a fresh cache directory with a real registry client, logging into the test output.
/// Disposing it disposes the component, then lazily unmounts whatever is still mounted under its directory (so a failed
/// test leaves nothing behind) and deletes it.
/// </summary>
internal sealed class LazyHarness : IAsyncDisposable
{
    private readonly TempDirectory _root;
    private readonly ILoggerFactory _loggers;
    private int _mountPoints;
    private LazyMode _mode;

    private LazyHarness(TempDirectory root, ILoggerFactory loggers, RegistryClient client, SnapshotterMetrics metrics, LazyFileSystem lazy, string cacheDirectory)
    {
        _root = root;
        _loggers = loggers;
        Client = client;
        Metrics = metrics;
        Lazy = lazy;
        CacheDirectory = cacheDirectory;
    }

    public LazyFileSystem Lazy { get; private set; }

    public RegistryClient Client { get; }

    public SnapshotterMetrics Metrics { get; }

    public string CacheDirectory { get; }

    public string BlobDirectory => Path.Combine(CacheDirectory, "blobs");

    public string Root => _root.Path;

    /// <summary>Starts the component; the blob-fetch mode unless a test asks for another (most tests here are about it).</summary>
    public static async Task<LazyHarness> StartAsync(ITestOutputHelper output, LazyMode mode = LazyMode.BlobFetch, RegistryClientOptions? clientOptions = null, bool fallBack = true)
    {
        HostRequirements.Mounting();
        var root = new TempDirectory("lazy-tests");
        var loggers = LoggerFactory.Create(b => b.AddProvider(new TestOutputLoggerProvider(output)).SetMinimumLevel(LogLevel.Debug));
        var client = new RegistryClient(clientOptions ?? new RegistryClientOptions { HostsDirectory = null });
        var metrics = new SnapshotterMetrics();
        var cache = root.Combine("cache");
        try
        {
            var lazy = await LazyFileSystem.CreateAsync(Options(cache, mode, fallBack), client, loggers, metrics);
            return new LazyHarness(root, loggers, client, metrics, lazy, cache) { _mode = mode };
        }
        catch
        {
            client.Dispose();
            loggers.Dispose();
            metrics.Dispose();
            root.Dispose();
            throw;
        }
    }

    public static LazyOptions Options(string cacheDirectory, LazyMode mode = LazyMode.Auto, bool fallBack = true) =>
        new() { CacheDirectory = cacheDirectory, Mode = mode, FallBackWhenUnavailable = fallBack };

    /// <summary>Replaces the component with a new instance on the same cache directory (a daemon restart).</summary>
    public async Task RestartAsync()
    {
        await Lazy.DisposeAsync();
        Lazy = await LazyFileSystem.CreateAsync(Options(CacheDirectory, _mode), Client, _loggers, Metrics);
    }

    /// <summary>A new empty directory to mount on.</summary>
    public string NewMountPoint(string name = "mnt") =>
        Directory.CreateDirectory(_root.Combine("mounts", $"{name}{Interlocked.Increment(ref _mountPoints)}")).FullName;

    public Task<RemoteImage> ResolveAsync(string reference) => Lazy.ResolveImageAsync(ImageReference.Parse(reference));

    /// <summary>Resolves <paramref name="reference"/> and mounts it at a new directory.</summary>
    public async Task<string> MountAsync(string reference)
    {
        var image = await ResolveAsync(reference);
        var mountPoint = NewMountPoint();
        await Lazy.MountAsync(image, mountPoint);
        return mountPoint;
    }

    /// <summary>The files in the blob directory (complete, partial, sparse).</summary>
    public IReadOnlyList<string> BlobFiles() =>
        Directory.Exists(BlobDirectory) ? Directory.EnumerateFiles(BlobDirectory).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToList() : [];

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Lazy.DisposeAsync();
        }
        finally
        {
            HostMounts.DetachUnder(_root.Path);
            Client.Dispose();
            Metrics.Dispose();
            _loggers.Dispose();
            _root.Dispose();
        }
    }
}
