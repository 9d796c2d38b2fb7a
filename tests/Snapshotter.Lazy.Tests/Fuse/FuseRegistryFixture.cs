using System.Text.RegularExpressions;
using Snapshotter.Lazy.Tests.Infrastructure;
using Snapshotter.Registry.Tests.Infrastructure;

namespace Snapshotter.Lazy.Tests.Fuse;

/// <summary>
/// A real docker-registry (access log on) of its own for the fuse-mode tests, holding <see cref="LazyTestImage"/> with a
/// third layer of 10,000 tiny files, converted by our converter. Its storage and port outlive the process, so a test can
/// stop it (an outage) and start it again at the same address; a fault proxy in front of it can stall answers.
/// </summary>
public sealed partial class FuseRegistryFixture : IAsyncLifetime
{
    /// <summary>Files in the tiny-file layer: the metadata walk covers at least this many.</summary>
    public const int TinyFiles = 10_000;

    private readonly TempDirectory _work = new("lazy-tests-fuse");
    private readonly List<string> _earlierLog = [];
    private readonly Lock _lock = new();
    private RegistryProcess? _registry;
    private int _port;

    internal ConvertedImage Converted { get; private set; } = null!;

    internal LazyTestImage Image => Converted.Image;

    internal FaultProxy Proxy { get; private set; } = null!;

    /// <summary>The image straight from the registry.</summary>
    public string Reference => Converted.Reference;

    /// <summary>The same image through the fault proxy.</summary>
    public string ProxyReference => $"{Proxy.Host}/lazy/fuse:v1";

    public string RegistryHost => $"127.0.0.1:{_port}";

    public async Task InitializeAsync()
    {
        HostRequirements.Root();
        HostRequirements.DockerRegistry();
        await StartRegistryAsync();
        Proxy = await FaultProxy.StartAsync(new Uri($"http://{RegistryHost}/"));
        Converted = await ConvertedImage.ConvertAsync(
            RegistryHost, "lazy/fuse", new LazyTestImage(bigFileSize: 24 * 1024 * 1024, smallFiles: 300, tinyFiles: TinyFiles, seed: 4242), _work.Path);
    }

    /// <summary>Starts the registry (again: same port, same storage) after <see cref="StopRegistryAsync"/>.</summary>
    public async Task StartRegistryAsync()
    {
        if (_registry is not null)
        {
            return;
        }

        _registry = await RegistryProcess.StartAsync(new RegistryProcessOptions
        {
            AccessLog = true,
            StorageDirectory = Directory.CreateDirectory(Path.Combine(_work.Path, "storage")).FullName,
            Port = _port == 0 ? null : _port,
        });
        _port = _registry.Port;
    }

    /// <summary>Kills the registry: connections to its port are refused until <see cref="StartRegistryAsync"/>.</summary>
    public async Task StopRegistryAsync()
    {
        if (_registry is { } registry)
        {
            _registry = null;
            lock (_lock)
            {
                _earlierLog.AddRange(Lines(registry.Log));
            }

            await registry.DisposeAsync();
        }
    }

    /// <summary>How many access log lines there are now, for <see cref="BlobBytesSince"/>.</summary>
    public int Mark() => AllLines().Count;

    /// <summary>
    /// Body bytes of successful blob GETs per digest since <paramref name="mark"/>, from the registry's access log (it
    /// writes a line after each response: wait for the log to settle first, <see cref="SettledBlobBytesSinceAsync"/>).
    /// </summary>
    public IReadOnlyDictionary<string, long> BlobBytesSince(int mark)
    {
        var bytes = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in AllLines().Skip(mark))
        {
            var match = BlobGet().Match(line);
            if (match.Success)
            {
                var digest = match.Groups["digest"].Value;
                bytes[digest] = bytes.GetValueOrDefault(digest) + long.Parse(match.Groups["bytes"].Value, System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return bytes;
    }

    /// <summary><see cref="BlobBytesSince"/> once the log has not changed for half a second.</summary>
    public async Task<IReadOnlyDictionary<string, long>> SettledBlobBytesSinceAsync(int mark)
    {
        var count = AllLines().Count;
        for (var quiet = 0; quiet < 5;)
        {
            await Task.Delay(100);
            var now = AllLines().Count;
            quiet = now == count ? quiet + 1 : 0;
            count = now;
        }

        return BlobBytesSince(mark);
    }

    /// <summary>The registry's whole log so far, for failure messages.</summary>
    public string Log() => string.Join('\n', AllLines());

    public async Task DisposeAsync()
    {
        if (Proxy is not null)
        {
            await Proxy.DisposeAsync();
        }

        await StopRegistryAsync();
        _work.Dispose();
    }

    private List<string> AllLines()
    {
        lock (_lock)
        {
            return [.. _earlierLog, .. _registry is { } r ? Lines(r.Log) : []];
        }
    }

    private static string[] Lines(string log) => log.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    // distribution's access log (gorilla combined format): "GET /v2/<name>/blobs/<digest> HTTP/1.1" <status> <bytes> ...
    [GeneratedRegex("\"GET /v2/[^ ]+/blobs/(?<digest>sha256:[0-9a-f]{64}) HTTP/[0-9.]+\" (200|206) (?<bytes>[0-9]+) ")]
    private static partial Regex BlobGet();
}
