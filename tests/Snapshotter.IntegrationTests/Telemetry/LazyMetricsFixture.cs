using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Snapshotter.IntegrationTests.Fixtures;
using Snapshotter.Registry.Tests.Infrastructure;
using Snapshotter.Tests.Hosting;

namespace Snapshotter.IntegrationTests.Telemetry;

/// <summary>
/// What the metrics tests observe: a real docker-registry holding a small image converted with our <c>convert</c>
/// (busybox and a 3 MiB file of random bytes), real containerd with our <c>serve</c> in fuse mode exporting metrics on
/// an ephemeral port, and a real Prometheus scraping it every second (with the alert rules of deploy/).
/// </summary>
public sealed partial class LazyMetricsFixture : IAsyncLifetime
{
    /// <summary>Size of <see cref="BigFile"/>: random bytes, so compression cannot make the reads small.</summary>
    public const int BigFileSize = 3 * 1024 * 1024;

    public const string BigFile = "/data/big.bin";

    public const string HelloFile = "/data/hello.txt";

    public const string HelloContent = "hello from a lazily pulled image";

    private RegistryProcess? _registry;
    private string? _workDir;

    /// <summary>containerd with our snapshotter: metrics on 127.0.0.1:0, lazy images served over FUSE.</summary>
    public ContainerdFixture Containerd { get; } = new(new ContainerdFixtureOptions { SnapshotterArguments = ["--metrics-address", "127.0.0.1:0", "--lazy-mode", "fuse"] });

    internal PrometheusProcess Prometheus { get; private set; } = null!;

    /// <summary>host:port of the snapshotter's /metrics (as it logged it).</summary>
    public string MetricsAddress { get; private set; } = "";

    /// <summary>The converted (lazily pullable) image.</summary>
    public string LazyImage { get; private set; } = "";

    /// <summary>The same image in another repository whose data blob was deleted from the registry afterwards.</summary>
    public string BrokenImage { get; private set; } = "";

    /// <summary>Hex md5 of <see cref="BigFile"/> (busybox md5sum's format).</summary>
    public string BigFileMd5 { get; private set; } = "";

    public async Task InitializeAsync()
    {
        try
        {
            await StartAsync();
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    private async Task StartAsync()
    {
        Tools.RequireRoot();
        Tools.Require("ctr-remote");
        Tools.Require("umoci");
        var busybox = Tools.RequireStaticBusybox();
        _registry = await RegistryProcess.StartAsync();
        _workDir = Directory.CreateTempSubdirectory("lzit-metrics-").FullName;

        // The source image: one layer with busybox and the files the tests read.
        var layout = Path.Combine(_workDir, "oci");
        var bundle = Path.Combine(_workDir, "bundle");
        var rootfs = Path.Combine(bundle, "rootfs");
        await Run("umoci", "init", "--layout", layout);
        await Run("umoci", "new", "--image", layout + ":v1");
        await Run("umoci", "unpack", "--image", layout + ":v1", bundle);
        Directory.CreateDirectory(Path.Combine(rootfs, "bin"));
        Directory.CreateDirectory(Path.Combine(rootfs, "data"));
        File.Copy(busybox, Path.Combine(rootfs, "bin", "busybox"));
        foreach (var applet in new[] { "sh", "cat", "md5sum", "sleep" })
        {
            File.CreateSymbolicLink(Path.Combine(rootfs, "bin", applet), "busybox");
        }

        var big = new byte[BigFileSize];
        new Random(12).NextBytes(big);
        await File.WriteAllBytesAsync(Path.Combine(rootfs, "data", "big.bin"), big);
        BigFileMd5 = Convert.ToHexStringLower(MD5.HashData(big));
        await File.WriteAllTextAsync(Path.Combine(rootfs, "data", "hello.txt"), HelloContent + "\n");
        await Run("umoci", "repack", "--refresh-bundle", "--image", layout + ":v1", bundle);

        LazyImage = $"{_registry.Host}/metrics/app:v1-lazy";
        BrokenImage = $"{_registry.Host}/metrics/broken:v1-lazy";
        await ConvertAsync(layout, LazyImage);
        var blob = DataBlob().Match(await ConvertAsync(layout, BrokenImage)).Groups[1].Value;
        using (var http = new HttpClient())
        {
            var delete = await http.DeleteAsync($"http://{_registry.Host}/v2/metrics/broken/blobs/{blob}");
            if (!delete.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"deleting {blob} from the registry answered {(int)delete.StatusCode}");
            }
        }

        await Containerd.InitializeAsync();
        var logs = Containerd.RequireSnapshotter().Logs();
        var bound = MetricsLine().Match(logs);
        MetricsAddress = bound.Success ? bound.Groups[1].Value : throw new InvalidOperationException($"serve logged no metrics address:\n{logs}");
        Prometheus = await PrometheusProcess.StartAsync(MetricsAddress, RepoFiles.Path("deploy/prometheus/snapshotter-alerts.yml"));
        await Prometheus.WaitForAsync($"up{{job=\"{PrometheusProcess.Job}\"}}", r => r.Count == 1 && r[0].Value == 1);
    }

    public async Task DisposeAsync()
    {
        if (Prometheus is not null)
        {
            await Prometheus.DisposeAsync();
        }

        await Containerd.DisposeAsync();
        if (_registry is not null)
        {
            await _registry.DisposeAsync();
        }

        if (_workDir is not null && Directory.Exists(_workDir))
        {
            Directory.Delete(_workDir, recursive: true);
        }
    }

    /// <summary><c>snapshotter convert oci:LAYOUT:v1 TARGET</c> with the built executable; returns its output.</summary>
    private static async Task<string> ConvertAsync(string layout, string target)
    {
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var dll = Path.Combine(AppContext.BaseDirectory, "snapshotter.dll");
        return (await ProcessRunner.RunAsync(dotnet, [dll, "convert", $"oci:{layout}:v1", target])).EnsureSuccess().StdOut;
    }

    private static async Task Run(string tool, params string[] args) => (await ProcessRunner.RunAsync(tool, args)).EnsureSuccess();

    [GeneratedRegex(@"\[1007\] metrics at http://(127\.0\.0\.1:\d+)")]
    private static partial Regex MetricsLine();

    [GeneratedRegex(@"data blob (sha256:[0-9a-f]{64})")]
    private static partial Regex DataBlob();
}
