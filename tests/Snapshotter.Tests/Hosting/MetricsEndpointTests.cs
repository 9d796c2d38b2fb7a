using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Grpc.Core;
using Snapshotter.Core.Remote;

namespace Snapshotter.Tests.Hosting;

/// <summary>
/// <c>/metrics</c> and <c>/healthz</c> of the real <c>snapshotter serve</c> (metrics on an ephemeral port) after real
/// snapshot calls through its socket: counters move by exactly the calls made, the text passes <c>promtool check
/// metrics</c>, and a real Prometheus server scraping it answers queries with the same values.
/// </summary>
public sealed partial class MetricsEndpointTests : IAsyncLifetime
{
    private const string Operations = "snapshotter_snapshot_operations_total";
    private const string DurationCount = "snapshotter_snapshot_operation_duration_seconds_count";
    private const string DurationBucket = "snapshotter_snapshot_operation_duration_seconds_bucket";
    private const string DurationSum = "snapshotter_snapshot_operation_duration_seconds_sum";
    private readonly string _dir = Directory.CreateTempSubdirectory("metricsep").FullName;
    private ServeProcess? _serve;
    private SnapshotsTestClient? _client;

    private SnapshotsTestClient Client => _client!;

    /// <summary>host:port the daemon logged as its bound metrics address.</summary>
    private string MetricsAddress { get; set; } = "";

    public async Task InitializeAsync()
    {
        _serve = await ServeProcess.StartAsync(Path.Combine(_dir, "root"), Path.Combine(_dir, "run", "snapshotter.sock"), "--metrics-address", "127.0.0.1:0");
        _client = new SnapshotsTestClient(_serve.Address);
        MetricsAddress = await BoundMetricsAddressAsync(_serve);
    }

    public async Task DisposeAsync()
    {
        _client?.Dispose();
        if (_serve is not null)
        {
            await _serve.DisposeAsync();
        }

        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Metrics_SnapshotCalls_CountedExactlyByOperationAndResult()
    {
        const int n = 5;
        const int missing = 3;
        var before = await MetricsText.ScrapeAsync(MetricsAddress);

        await MakeCallsAsync("exact", n, missing);

        var after = await MetricsText.ScrapeAsync(MetricsAddress);
        double Delta(string name, params (string, string)[] labels) => after.Value(name, labels) - before.Value(name, labels);
        Assert.Equal(n, Delta(Operations, ("operation", "Prepare"), ("result", "ok")));
        Assert.Equal(n, Delta(Operations, ("operation", "Stat"), ("result", "ok")));
        Assert.Equal(missing, Delta(Operations, ("operation", "Stat"), ("result", "not_found")));
        Assert.Equal(n, Delta(Operations, ("operation", "Commit"), ("result", "ok")));
        Assert.Equal(n, Delta(Operations, ("operation", "Remove"), ("result", "ok")));

        // The duration histogram is labelled by operation only: a NotFound Stat is timed too.
        Assert.Equal(n, Delta(DurationCount, ("operation", "Prepare")));
        Assert.Equal(n + missing, Delta(DurationCount, ("operation", "Stat")));
        Assert.Equal(n, Delta(DurationBucket, ("operation", "Commit"), ("le", "+Inf")));
        Assert.True(Delta(DurationSum, ("operation", "Prepare")) > 0);
        foreach (var operation in new[] { "Prepare", "Stat", "Commit", "Remove" })
        {
            // Buckets are cumulative and end at the count.
            var buckets = after.Matching(DurationBucket, ("operation", operation)).Select(s => s.Value).ToList();
            Assert.Equal(buckets.Order(), buckets);
            Assert.Equal(after.Value(DurationCount, ("operation", operation)), buckets[^1]);
        }
    }

    [Fact]
    public async Task Metrics_DataBlobLayerWithoutImageReference_CountsMissingLabelsFallbackOnce()
    {
        var before = await MetricsText.ScrapeAsync(MetricsAddress);

        // What CRI sends with disable_snapshot_annotations = true: the layer's annotations but no image reference.
        var mounts = await Client.Prepare("extract-1 sha256:aa", "", (RemoteLabels.DataBlob, "true"), (RemoteLabels.TargetRef, "sha256:aa"));

        var after = await MetricsText.ScrapeAsync(MetricsAddress);
        Assert.NotEmpty(mounts.Mounts);
        const string fallbacks = "snapshotter_lazy_fallbacks_total";
        Assert.Equal(1, after.Required(fallbacks, ("reason", "missing_labels")) - before.Required(fallbacks, ("reason", "missing_labels")));
        Assert.Equal(before.Required(fallbacks, ("reason", "unresolvable")), after.Required(fallbacks, ("reason", "unresolvable")));
        Assert.Equal(1, after.Value(Operations, ("operation", "Prepare"), ("result", "ok")) - before.Value(Operations, ("operation", "Prepare"), ("result", "ok")));
    }

    [Fact]
    public async Task Metrics_AfterCalls_PromtoolCheckMetricsReportsNothing()
    {
        await MakeCallsAsync("lint", 2, 1);
        var scrape = await MetricsText.ScrapeAsync(MetricsAddress);

        var (exit, output) = await Promtool.RunAsync(scrape.Text, "check", "metrics");

        Assert.True(exit == 0 && output.Trim().Length == 0, $"promtool check metrics exited {exit}:\n{output}");
        // The families the calls create are in the text that was checked.
        Assert.Contains("# TYPE snapshotter_snapshot_operation_duration_seconds histogram", scrape.Text);
        Assert.Contains("# TYPE snapshotter_snapshot_operations_total counter", scrape.Text);
        Assert.Contains("dotnet_process_memory_working_set_bytes", scrape.Text);
    }

    [Fact]
    public async Task Metrics_ServiceResource_NamesTheService()
    {
        var scrape = await MetricsText.ScrapeAsync(MetricsAddress);

        var info = Assert.Single(scrape.Matching("target_info"));
        Assert.Equal("containerd-lazy-snapshotter", info.Labels["service_name"]);
    }

    [Fact]
    public async Task Healthz_OnMetricsPort_AnswersOk()
    {
        using var http = new HttpClient();

        var response = await http.GetAsync($"http://{MetricsAddress}/healthz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok\n", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("/metrics")]
    [InlineData("/healthz")]
    public async Task Endpoints_OnGrpcSocket_NotFound(string path)
    {
        // h2c with prior knowledge over the unix socket, as the gRPC clients talk to it.
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(_serve!.Address), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        using var http = new HttpClient(handler);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://localhost{path}")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Prometheus_ScrapingServe_QueriesReturnTheCallsMade()
    {
        const int n = 4;
        const int missing = 2;
        await using var prometheus = await PrometheusProcess.StartAsync(MetricsAddress, RepoFiles.Path("deploy/prometheus/snapshotter-alerts.yml"));
        await prometheus.WaitForAsync($"up{{job=\"{PrometheusProcess.Job}\"}}", r => r.Count == 1 && r[0].Value == 1);
        // rate() needs an increase between two samples: Prometheus first stores the Prepare series before the measured calls
        // (a series first seen already holding every call has a rate of 0 and its quantile is NaN).
        await MakeCallsAsync("prom-warm", 1, 0);
        var warm = (await MetricsText.ScrapeAsync(MetricsAddress)).Value(Operations, ("operation", "Prepare"), ("result", "ok"));
        await prometheus.WaitForAsync($"{Operations}{{operation=\"Prepare\",result=\"ok\"}}", r => r.Count == 1 && r[0].Value == warm);
        var before = await MetricsText.ScrapeAsync(MetricsAddress);

        await MakeCallsAsync("prom", n, missing);

        var after = await MetricsText.ScrapeAsync(MetricsAddress);
        var prepared = after.Value(Operations, ("operation", "Prepare"), ("result", "ok"));
        Assert.Equal(n, prepared - before.Value(Operations, ("operation", "Prepare"), ("result", "ok")));
        // Prometheus sees the same values as the scrape (no call is made meanwhile).
        await prometheus.WaitForAsync($"{Operations}{{operation=\"Prepare\",result=\"ok\"}}", r => r.Count == 1 && r[0].Value == prepared);
        var notFound = await prometheus.WaitForAsync(
            $"{Operations}{{operation=\"Stat\",result=\"not_found\"}}", r => r.Count == 1 && r[0].Value == after.Value(Operations, ("operation", "Stat"), ("result", "not_found")));
        Assert.Equal(PrometheusProcess.Job, notFound[0].Labels["job"]);
        var statCount = await prometheus.QueryAsync($"sum({DurationCount}{{operation=\"Stat\"}})");
        Assert.Equal(after.Value(DurationCount, ("operation", "Stat")), Assert.Single(statCount).Value);
        var operations = await prometheus.QueryAsync($"count by (operation) ({Operations})");
        Assert.Equal(["Commit", "Prepare", "Remove", "Stat"], operations.Select(s => s.Labels["operation"]).Order().ToArray());

        // A quantile of the calls' durations over the last minute is a finite number of seconds within the buckets.
        // rate() needs two scrapes of the new buckets inside the window: wait for them (slow on a loaded machine).
        var p99 = await prometheus.WaitForAsync(
            $"histogram_quantile(0.99, sum by (le) (rate({DurationBucket}{{operation=\"Prepare\"}}[1m])))", r => r.Count == 1 && !double.IsNaN(r[0].Value));
        var seconds = Assert.Single(p99).Value;
        Assert.True(seconds > 0 && seconds <= 60, $"p99 {seconds}");

        // The alert rules of deploy/ load and evaluate without errors against the live series.
        var rules = await prometheus.WaitForRulesEvaluatedAsync();
        Assert.NotEmpty(rules);
        Assert.All(rules, r => Assert.True(r.Health == "ok", $"rule {r.Name}: {r.Json}"));
    }

    /// <summary><paramref name="n"/> x (Prepare, Stat, Commit, Remove) and <paramref name="missing"/> Stats of keys that do not exist.</summary>
    private async Task MakeCallsAsync(string prefix, int n, int missing)
    {
        for (var i = 0; i < n; i++)
        {
            await Client.Prepare($"{prefix}-active-{i}");
            await Client.Stat($"{prefix}-active-{i}");
            await Client.Commit($"{prefix}-committed-{i}", $"{prefix}-active-{i}");
            await Client.Remove($"{prefix}-committed-{i}");
        }

        for (var i = 0; i < missing; i++)
        {
            var code = await SnapshotsTestClient.CodeOf(() => Client.Stat($"{prefix}-absent-{i}"), $"{prefix}-absent-{i}");
            Assert.Equal(StatusCode.NotFound, code);
        }
    }

    /// <summary>The metrics address serve logged (<c>[1007] metrics at http://127.0.0.1:PORT</c>), also for port 0.</summary>
    internal static async Task<string> BoundMetricsAddressAsync(ServeProcess serve)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (MetricsLine().Match(serve.Output) is { Success: true } m)
            {
                return m.Groups[1].Value;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"serve did not log its metrics address:\n{serve.Output}");
    }

    [GeneratedRegex(@"\[1007\] metrics at http://(127\.0\.0\.1:\d+)")]
    private static partial Regex MetricsLine();
}
