using System.Text.Json;
using Snapshotter.IntegrationTests.Fixtures;
using Snapshotter.Tests.Deploy;
using Snapshotter.Tests.Hosting;
using Xunit.Abstractions;

namespace Snapshotter.IntegrationTests.Telemetry;

/// <summary>
/// The metrics of a lazy pull through real containerd: <c>ctr-remote images rpull</c> of a converted image from a real
/// registry, a container reading its files over FUSE, its removal; scraped from <c>/metrics</c> and queried from a real
/// Prometheus, which also answers every query of the Grafana dashboard in deploy/.
/// </summary>
[Collection(IntegrationCollection.Name)]
public sealed class LazyMetricsTests : IntegrationTest, IClassFixture<LazyMetricsFixture>
{
    private const string Mounted = "snapshotter_lazy_images_mounted";
    private const string Fallbacks = "snapshotter_lazy_fallbacks_total";
    private const string Operations = "snapshotter_snapshot_operations_total";
    private const string ReadRequests = "snapshotter_read_requests_total";
    private const string ReadBytes = "snapshotter_read_bytes_total";
    private const string ChunkFetched = "snapshotter_chunk_cache_fetched_bytes_total";
    private const string Registry = "snapshotter_registry_requests_total";
    private static readonly (string, string) Fuse = ("backend", "fuse");
    private readonly LazyMetricsFixture _lazy;
    private readonly Ctr _ctr;

    public LazyMetricsTests(LazyMetricsFixture lazy, ITestOutputHelper output)
        : base(lazy.Containerd, output)
    {
        _lazy = lazy;
        _ctr = lazy.Containerd.Ctr(lazy.Containerd.NewNamespace("metrics"));
    }

    private PrometheusProcess Prometheus => _lazy.Prometheus;

    [Fact]
    public async Task LazyPullRunRead_MetricsMoveByTheWork_PrometheusAndDashboardSeeThem()
    {
        var before = await ScrapeAsync();

        // Pull: the data layer is committed remotely and the bootstrap layer fetched by the service, each Prepare answered
        // AlreadyExists; containerd downloads and unpacks nothing.
        await RemoteAsync("images", "rpull", "--plain-http", "--snapshotter", Snapshotter, _lazy.LazyImage);
        var pulled = await ScrapeAsync();
        Assert.Equal(2, Delta(before, pulled, Operations, ("operation", "Prepare"), ("result", "already_exists")));
        Assert.Equal(0, Delta(before, pulled, Operations, ("operation", "Commit"), ("result", "ok")));
        Assert.Equal(0, pulled.Required(Mounted, ("mode", "fuse")));
        Assert.Equal(SumOf(before, Fallbacks), SumOf(pulled, Fallbacks));
        Assert.True(Delta(before, pulled, Registry, ("status_class", "2xx")) > 0, "the layer was checked with the registry");

        // A container: the image is mounted once, at its first container.
        var container = "reader-" + Guid.NewGuid().ToString("N")[..6];
        var output = Directory.CreateTempSubdirectory("ctr-out-");
        (await _ctr.RunAsync("run", "-d", "--snapshotter", Snapshotter, "--mount", Ctr.OutputMount(output.FullName), _lazy.LazyImage, container, "sleep", "600")).EnsureSuccess();
        try
        {
            var running = await ScrapeAsync();
            Assert.Equal(1, running.Required(Mounted, ("mode", "fuse")));
            Assert.Equal(1, Delta(before, running, "snapshotter_lazy_mount_duration_seconds_count", ("mode", "fuse")));

            // Reads: every byte of the file comes over FUSE from chunks fetched from the registry.
            var md5 = (await _ctr.ExecAsync(container, output.FullName, "md5", "md5sum", LazyMetricsFixture.BigFile)).EnsureSuccess();
            Assert.StartsWith(_lazy.BigFileMd5 + " ", md5.StdOut);
            var hello = (await _ctr.ExecAsync(container, output.FullName, "cat", "cat", LazyMetricsFixture.HelloFile)).EnsureSuccess();
            Assert.Equal(LazyMetricsFixture.HelloContent, hello.StdOut.Trim());
            var read = await ScrapeAsync();
            Assert.True(Delta(running, read, ReadRequests, Fuse) > 0);
            Assert.True(Delta(running, read, ReadBytes, Fuse) >= LazyMetricsFixture.BigFileSize, $"read {Delta(running, read, ReadBytes, Fuse)} bytes over FUSE");
            Assert.Equal(0, Delta(before, read, "snapshotter_read_failures_total", Fuse));
            Assert.Equal(0, Delta(before, read, ReadRequests, ("backend", "fscache")));
            Assert.True(Delta(before, read, "snapshotter_chunk_cache_misses_total") > 0);
            var fetched = Delta(before, read, ChunkFetched);
            Assert.True(fetched > 0);
            Assert.True(Delta(before, read, "snapshotter_registry_fetched_bytes_total") >= fetched, "chunk bytes are registry body bytes");
            // Per image: the only mounted image owns every fetched and read byte.
            Assert.Equal(fetched, read.Required("snapshotter_image_fetched_bytes", ("image", _lazy.LazyImage)));
            Assert.Equal(Delta(before, read, ReadBytes, Fuse), read.Required("snapshotter_image_read_bytes", ("image", _lazy.LazyImage)));
            // Disk use is measured at most every 15 s (a scrape stays cheap).
            Assert.True((await WaitScrapeAsync(m => m.Required("snapshotter_cache_disk_bytes") > 0)).Required("snapshotter_cache_disk_bytes") > 0);

            // The text with every family of a lazy pull passes promtool's checks (format and lint).
            var (lintExit, lint) = await Promtool.RunAsync(read.Text, "check", "metrics");
            Assert.True(lintExit == 0 && lint.Trim().Length == 0, $"promtool check metrics exited {lintExit}:\n{lint}");
            Assert.Contains("# TYPE snapshotter_read_duration_seconds histogram", read.Text);
            Assert.Contains("# TYPE snapshotter_lazy_mount_duration_seconds histogram", read.Text);

            // Prometheus scraped the same values.
            await Prometheus.WaitForAsync($"{Mounted}{{mode=\"fuse\"}}", r => r.Count == 1 && r[0].Value == 1);
            var promRequests = (await Prometheus.WaitForAsync($"{ReadRequests}{{backend=\"fuse\"}}", r => r.Count == 1 && r[0].Value >= read.Value(ReadRequests, Fuse)))[0].Value;
            Assert.True(promRequests <= (await ScrapeAsync()).Value(ReadRequests, Fuse));
            var perImage = await Prometheus.WaitForAsync(
                $"snapshotter_image_fetched_bytes{{image=\"{_lazy.LazyImage}\"}}", r => r.Count == 1 && r[0].Value == read.Required("snapshotter_image_fetched_bytes", ("image", _lazy.LazyImage)));
            Assert.Equal(PrometheusProcess.Job, perImage[0].Labels["job"]);
            Assert.Equal(_lazy.MetricsAddress, perImage[0].Labels["instance"]);
            var alreadyExists = await Prometheus.QueryAsync($"{Operations}{{operation=\"Prepare\",result=\"already_exists\"}}");
            Assert.Equal(read.Value(Operations, ("operation", "Prepare"), ("result", "already_exists")), Assert.Single(alreadyExists).Value);
            var hitRatio = await Prometheus.QueryAsync(
                "sum(snapshotter_chunk_cache_hits_total) / (sum(snapshotter_chunk_cache_hits_total) + sum(snapshotter_chunk_cache_misses_total))");
            var ratio = Assert.Single(hitRatio).Value;
            Assert.InRange(ratio, 0, 1);

            // Every query of the dashboard parses and returns data while the image is mounted.
            await AssertDashboardAnswersAsync();
        }
        finally
        {
            await _ctr.RunAsync("task", "kill", "-s", "SIGKILL", container);
            await WaitTaskGoneAsync(container);
            await _ctr.RunAsync("containers", "rm", container);
            output.Delete(recursive: true);
        }

        // The container's snapshot is removed with it: the image is unmounted and its per-image series end.
        var removed = await WaitScrapeAsync(m => m.Required(Mounted, ("mode", "fuse")) == 0);
        Assert.Empty(removed.Matching("snapshotter_image_fetched_bytes", ("image", _lazy.LazyImage)));
        await Prometheus.WaitForAsync($"{Mounted}{{mode=\"fuse\"}}", r => r.Count == 1 && r[0].Value == 0);
        var rules = await Prometheus.WaitForRulesEvaluatedAsync();
        Assert.NotEmpty(rules);
        Assert.All(rules, r => Assert.True(r.Health == "ok", $"rule {r.Name}: {r.Json}"));
    }

    [Fact]
    public async Task Rpull_DataBlobMissingFromRegistry_CountsOneUnresolvableFallbackAnd4xx()
    {
        var before = await ScrapeAsync();

        // The layer cannot be checked (404), so it goes the ordinary way, where containerd's own fetch fails too.
        var pull = await RemoteRunAsync("images", "rpull", "--plain-http", "--snapshotter", Snapshotter, _lazy.BrokenImage);

        var after = await ScrapeAsync();
        Assert.True(pull.ExitCode != 0, pull.ToString());
        Assert.Equal(1, Delta(before, after, Fallbacks, ("reason", "unresolvable")));
        Assert.Equal(0, Delta(before, after, Fallbacks, ("reason", "missing_labels")));
        Assert.True(Delta(before, after, Registry, ("status_class", "4xx")) >= 1);
        Assert.Equal(0, Delta(before, after, Operations, ("operation", "Prepare"), ("result", "already_exists")));
        await Prometheus.WaitForAsync($"{Fallbacks}{{reason=\"unresolvable\"}}", r => r.Count == 1 && r[0].Value == after.Required(Fallbacks, ("reason", "unresolvable")));
    }

    private async Task AssertDashboardAnswersAsync()
    {
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(RepoFiles.Path("deploy/grafana/snapshotter-dashboard.json")));
        var failures = new List<string>();
        foreach (var (name, label, promql) in DashboardQueries.Variables(json.RootElement))
        {
            var values = await Prometheus.QueryAsync(DashboardQueries.Substitute(promql, _lazy.MetricsAddress, ".*", "5m", "10m"));
            var expected = name == "image" ? _lazy.LazyImage : _lazy.MetricsAddress;
            if (!values.Any(v => v.Labels.TryGetValue(label, out var value) && value == expected))
            {
                failures.Add($"variable {name}: {promql} has no {label}={expected}");
            }
        }

        var queries = DashboardQueries.Expressions(json.RootElement).ToList();
        Assert.NotEmpty(queries);
        foreach (var query in queries)
        {
            // The node selected, all images, windows that cover the work of this test.
            var expr = DashboardQueries.Substitute(query.Expr, _lazy.MetricsAddress, ".*", "5m", "10m");
            var result = await Prometheus.QueryAsync(expr);
            if (result.Count == 0)
            {
                failures.Add($"{query.Panel} ({query.RefId}): no data for {expr}");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private Task<MetricsText> ScrapeAsync() => MetricsText.ScrapeAsync(_lazy.MetricsAddress);

    private async Task<MetricsText> WaitScrapeAsync(Func<MetricsText, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var scrape = await ScrapeAsync();
            if (done(scrape) || DateTime.UtcNow > deadline)
            {
                return scrape;
            }

            await Task.Delay(250);
        }
    }

    private async Task WaitTaskGoneAsync(string container)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while ((await _ctr.RunAsync("task", "rm", container)).ExitCode != 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
        }
    }

    private static double Delta(MetricsText before, MetricsText after, string name, params (string, string)[] labels) =>
        after.Value(name, labels) - before.Value(name, labels);

    private static double SumOf(MetricsText scrape, string name) => scrape.Matching(name).Sum(s => s.Value);

    private async Task RemoteAsync(params string[] args) => (await RemoteRunAsync(args)).EnsureSuccess();

    /// <summary><c>ctr-remote</c> (stargz-snapshotter's ctr, which adds the image reference labels) on the fixture's containerd.</summary>
    private Task<ProcessResult> RemoteRunAsync(params string[] args) =>
        ProcessRunner.RunAsync("ctr-remote", ["-a", _lazy.Containerd.Address, "-n", _ctr.Namespace, .. args]);
}
