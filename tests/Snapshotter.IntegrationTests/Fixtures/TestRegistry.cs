using Snapshotter.Registry.Tests.Infrastructure;

namespace Snapshotter.IntegrationTests.Fixtures;

/// <summary>
/// The real <c>docker-registry</c> the lazy-pull tests pull from (the registry tests' <see cref="RegistryProcess"/>), on
/// 127.0.0.1 with its access log on. Its storage and port outlive the process, so a test can stop it (an outage) and
/// start it again at the same address with the same images. The access log of every incarnation is kept.
/// </summary>
public sealed class TestRegistry : IAsyncDisposable
{
    private readonly string _storage;
    private readonly List<string> _earlierLines = [];
    private RegistryProcess? _process;

    private TestRegistry(string storage, int port)
    {
        _storage = storage;
        Port = port;
    }

    public int Port { get; }

    /// <summary>host:port as used in image references.</summary>
    public string Host => $"127.0.0.1:{Port}";

    public bool IsRunning => _process is not null;

    /// <summary>Starts a registry storing its data in <paramref name="storageDirectory"/> on a free loopback port.</summary>
    public static async Task<TestRegistry> StartAsync(string storageDirectory)
    {
        Tools.Require("docker-registry");
        System.IO.Directory.CreateDirectory(storageDirectory);
        var registry = new TestRegistry(storageDirectory, FreePort.Get());
        await registry.StartAsync().ConfigureAwait(false);
        return registry;
    }

    /// <summary>Starts the registry again (same port, same storage) after <see cref="StopAsync"/>.</summary>
    public async Task StartAsync()
    {
        if (_process is not null)
        {
            return;
        }

        _process = await RegistryProcess.StartAsync(new RegistryProcessOptions { AccessLog = true, StorageDirectory = _storage, Port = Port }).ConfigureAwait(false);
    }

    /// <summary>Kills the registry: connections to its port are refused until <see cref="StartAsync()"/>.</summary>
    public async Task StopAsync()
    {
        if (_process is { } process)
        {
            _process = null;
            _earlierLines.AddRange(Lines(process.Log));
            await process.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>How many log lines there are now: pass it to <see cref="RequestsSince"/> to see what one step asked for.</summary>
    public int Mark() => AllLines().Count;

    /// <summary>The requests the registry logged since <paramref name="mark"/>.</summary>
    public IReadOnlyList<RegistryRequest> RequestsSince(int mark) =>
        AllLines().Skip(mark).Select(RegistryRequest.TryParse).OfType<RegistryRequest>().ToList();

    /// <summary>Body bytes of successful blob GETs per digest since <paramref name="mark"/>, by clients whose user agent starts with <paramref name="agentPrefix"/>.</summary>
    public IReadOnlyDictionary<string, long> BlobBytesSince(int mark, string agentPrefix) =>
        RequestsSince(mark)
            .Where(r => r.Method == "GET" && r.Status is 200 or 206 && r.BlobDigest is not null && r.UserAgent.StartsWith(agentPrefix, StringComparison.Ordinal))
            .GroupBy(r => r.BlobDigest!)
            .ToDictionary(g => g.Key, g => g.Sum(r => r.Bytes), StringComparer.Ordinal);

    /// <summary>The whole access and error log, for failure messages.</summary>
    public string Log() => string.Join('\n', AllLines());

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    private List<string> AllLines() => [.. _earlierLines, .. _process is { } p ? Lines(p.Log) : []];

    private static string[] Lines(string log) => log.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
