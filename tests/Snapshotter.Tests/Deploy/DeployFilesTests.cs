using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Snapshotter.Configuration;
using Snapshotter.Tests.Hosting;
using YamlDotNet.RepresentationModel;

namespace Snapshotter.Tests.Deploy;

/// <summary>
/// The files of deploy/: checked with the tools that consume them where they run here (promtool for the Prometheus
/// config, rules and every dashboard query, systemd-analyze for the unit, the daemon's own config loader for the
/// config.json they carry) and for syntax and wiring otherwise (Kubernetes YAML, Grafana JSON).
/// </summary>
public sealed class DeployFilesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("deploy-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task ScrapeConfig_PromtoolCheckConfig_Valid()
    {
        var (exit, output) = await Promtool.RunAsync(null, "check", "config", RepoFiles.Path("deploy/prometheus/scrape.yml"));

        Assert.True(exit == 0, output);
        Assert.Contains("SUCCESS", output);
    }

    [Fact]
    public async Task AlertRules_PromtoolCheckAndUnitTests_Pass()
    {
        var (checkExit, check) = await Promtool.RunAsync(null, "check", "rules", RepoFiles.Path("deploy/prometheus/snapshotter-alerts.yml"));
        var (testExit, test) = await Promtool.RunAsync(null, "test", "rules", RepoFiles.Path("deploy/prometheus/snapshotter-alerts.test.yml"));

        Assert.True(checkExit == 0, check);
        Assert.True(testExit == 0, test);
        Assert.Contains("SUCCESS", test);
    }

    [Fact]
    public void Dashboard_Json_ImportableWithDatasourceVariable()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(RepoFiles.Path("deploy/grafana/snapshotter-dashboard.json")));
        var root = json.RootElement;

        Assert.False(string.IsNullOrEmpty(root.GetProperty("title").GetString()));
        Assert.False(string.IsNullOrEmpty(root.GetProperty("uid").GetString()));
        Assert.True(root.GetProperty("schemaVersion").GetInt32() >= 30);
        Assert.False(root.TryGetProperty("id", out var id) && id.ValueKind != JsonValueKind.Null, "an exported id would clash on import");
        var variables = root.GetProperty("templating").GetProperty("list").EnumerateArray().ToList();
        var datasource = Assert.Single(variables, v => v.GetProperty("type").GetString() == "datasource");
        Assert.Equal("prometheus", datasource.GetProperty("query").GetString());
        Assert.Contains(variables, v => v.GetProperty("name").GetString() == "instance");
        Assert.Contains(variables, v => v.GetProperty("name").GetString() == "image");

        var panels = DashboardQueries.Panels(root).ToList();
        Assert.Equal(panels.Count, panels.Select(p => p.GetProperty("id").GetInt32()).Distinct().Count());
        foreach (var panel in panels.Where(p => p.GetProperty("type").GetString() != "row"))
        {
            var title = panel.GetProperty("title").GetString();
            Assert.Equal("${datasource}", panel.GetProperty("datasource").GetProperty("uid").GetString());
            Assert.True(panel.TryGetProperty("gridPos", out _), $"{title} has no gridPos");
            var targets = panel.GetProperty("targets").EnumerateArray().ToList();
            Assert.NotEmpty(targets);
            Assert.All(targets, t => Assert.Equal("${datasource}", t.GetProperty("datasource").GetProperty("uid").GetString()));
        }

        // What the issue asks the dashboard to show, by the series it must query.
        var exprs = string.Join("\n", DashboardQueries.Expressions(root).Select(q => q.Expr));
        foreach (var series in new[]
        {
            "snapshotter_snapshot_operation_duration_seconds_bucket", "snapshotter_lazy_mount_duration_seconds_bucket",
            "snapshotter_image_fetched_bytes", "snapshotter_image_read_bytes", "snapshotter_chunk_cache_fetched_bytes_total",
            "snapshotter_read_bytes_total", "snapshotter_chunk_cache_hits_total", "snapshotter_chunk_cache_misses_total",
            "snapshotter_read_duration_seconds_bucket", "snapshotter_registry_requests_total", "snapshotter_lazy_fallbacks_total",
            "snapshotter_cache_disk_bytes", "dotnet_process_memory_working_set_bytes",
        })
        {
            Assert.Contains(series, exprs);
        }
    }

    [Fact]
    public async Task Dashboard_EveryQuery_ParsesWithPromtool()
    {
        // promtool parses the PromQL of recording rules: one rule per dashboard query, with Grafana's variables filled in.
        using var json = JsonDocument.Parse(File.ReadAllText(RepoFiles.Path("deploy/grafana/snapshotter-dashboard.json")));
        var queries = DashboardQueries.Expressions(json.RootElement).ToList();
        var rules = new StringBuilder("groups:\n  - name: dashboard\n    rules:\n");
        for (var i = 0; i < queries.Count; i++)
        {
            var expr = DashboardQueries.Substitute(queries[i].Expr, "node-a:9110", ".*", "5m", "1h");
            rules.Append($"      - record: dashboard:query{i}\n        expr: {JsonSerializer.Serialize(expr)}\n");
        }

        var path = Path.Combine(_dir, "dashboard-rules.yml");
        await File.WriteAllTextAsync(path, rules.ToString());

        var (exit, output) = await Promtool.RunAsync(null, "check", "rules", path);

        Assert.True(exit == 0, $"{output}\n{rules}");
        Assert.Contains($"SUCCESS: {queries.Count} rules found", output);
    }

    [Fact]
    public void ConfigJson_OfDeployAndConfigMap_LoadWithTheDaemonsLoader()
    {
        var fromDeploy = ConfigLoader.Load(new ConfigOverrides(RepoFiles.Path("deploy/config.json"), null, null, null), _ => null);
        var configMapJson = ConfigMapData()["config.json"];
        var path = Path.Combine(_dir, "config.json");
        File.WriteAllText(path, configMapJson);

        var fromConfigMap = ConfigLoader.Load(new ConfigOverrides(path, null, null, null), _ => null);

        Assert.Equal("/run/containerd-lazy-snapshotter/snapshotter.sock", fromDeploy.Address);
        Assert.Equal(fromDeploy.Address, fromConfigMap.Address);
        Assert.Equal(fromDeploy.Root, fromConfigMap.Root);
        // The DaemonSet is scraped from other hosts: not the loopback-only default.
        Assert.Equal(IPAddress.Any, IPEndPoint.Parse(fromConfigMap.MetricsAddress).Address);
    }

    [Fact]
    public void DaemonSet_Yaml_PrivilegedWithHostPathsProbeAndMetricsPortWired()
    {
        var ds = LoadYaml("deploy/kubernetes/daemonset.yaml");
        Assert.Equal("apps/v1", Scalar(ds, "apiVersion"));
        Assert.Equal("DaemonSet", Scalar(ds, "kind"));
        var spec = Map(ds, "spec");
        var podSpec = Map(Map(spec, "template"), "spec");
        var selector = Map(Map(spec, "selector"), "matchLabels");
        var podLabels = Map(Map(Map(spec, "template"), "metadata"), "labels");
        foreach (var (key, value) in selector.Children)
        {
            Assert.Equal(((YamlScalarNode)value).Value, Scalar(podLabels, ((YamlScalarNode)key).Value!));
        }

        Assert.Equal("true", Scalar(podSpec, "hostNetwork"));
        Assert.False(podSpec.Children.ContainsKey("hostPID"), "hostPID is not needed (see the comment in daemonset.yaml)");
        var container = (YamlMappingNode)((YamlSequenceNode)podSpec["containers"]).Children.Single();
        Assert.Equal("true", Scalar(Map(container, "securityContext"), "privileged"));

        var config = ConfigLoader.Load(new ConfigOverrides(WriteConfigMapConfig(), null, null, null), _ => null);
        var port = (YamlMappingNode)((YamlSequenceNode)container["ports"]).Children.Single();
        Assert.Equal(IPEndPoint.Parse(config.MetricsAddress).Port.ToString(), Scalar(port, "containerPort"));
        var probe = Map(Map(container, "livenessProbe"), "httpGet");
        Assert.Equal("/healthz", Scalar(probe, "path"));
        Assert.Equal(Scalar(port, "name"), Scalar(probe, "port"));
        Assert.True(Map(container, "resources").Children.ContainsKey("requests"));

        // Each hostPath is mounted where the daemon expects it; the state dir propagates the daemon's mounts to the host.
        var volumes = ((YamlSequenceNode)podSpec["volumes"]).Children.Cast<YamlMappingNode>().ToDictionary(v => Scalar(v, "name"));
        var mounts = ((YamlSequenceNode)container["volumeMounts"]).Children.Cast<YamlMappingNode>().ToDictionary(m => Scalar(m, "name"));
        string HostPathAt(string mountPath) => Scalar(Map(volumes[mounts.Single(m => Scalar(m.Value, "mountPath") == mountPath).Key], "hostPath"), "path");
        Assert.Equal(config.Root, HostPathAt(config.Root));
        Assert.Equal("Bidirectional", Scalar(mounts.Single(m => Scalar(m.Value, "mountPath") == config.Root).Value, "mountPropagation"));
        Assert.StartsWith(config.Root, config.CacheDir);
        Assert.Equal(Path.GetDirectoryName(config.Address), HostPathAt(Path.GetDirectoryName(config.Address)!));
        Assert.Equal("/dev", HostPathAt("/dev"));
        Assert.StartsWith(HostPathAt("/etc/containerd"), config.HostsDir);

        // --config names the file the ConfigMap volume provides.
        var args = ((YamlSequenceNode)container["args"]).Children.Select(a => ((YamlScalarNode)a).Value).ToList();
        var configPath = args[args.IndexOf("--config") + 1]!;
        var configVolume = mounts.Single(m => Scalar(m.Value, "mountPath") == Path.GetDirectoryName(configPath)).Key;
        Assert.Equal(Scalar(LoadYaml("deploy/kubernetes/configmap.yaml"), "metadata", "name"), Scalar(Map(volumes[configVolume], "configMap"), "name"));
        Assert.Contains(Path.GetFileName(configPath), ConfigMapData().Keys);
    }

    [Fact]
    public void KubernetesScrapeJob_Yaml_KeepsTheDaemonSetsPodsAndJobName()
    {
        var job = (YamlMappingNode)((YamlSequenceNode)LoadYaml("deploy/kubernetes/prometheus-scrape-job.yml")["scrape_configs"]).Children.Single();
        var relabels = ((YamlSequenceNode)job["relabel_configs"]).Children.Cast<YamlMappingNode>().ToList();
        var podLabel = Scalar(Map(Map(Map(LoadYaml("deploy/kubernetes/daemonset.yaml"), "spec"), "template"), "metadata"), "labels", "app.kubernetes.io/name");

        Assert.Contains(relabels, r => r.Children.ContainsKey("regex") && Scalar(r, "regex") == podLabel && Scalar(r, "action") == "keep");
        Assert.Contains(relabels, r => Scalar(r, "target_label") == "job" && Scalar(r, "replacement") == PrometheusProcess.Job);
        Assert.Contains(relabels, r => Scalar(r, "target_label") == "instance");
    }

    [Fact]
    public async Task SystemdUnit_SystemdAnalyzeVerify_CleanAndOrderedBeforeContainerd()
    {
        const string analyze = "/usr/bin/systemd-analyze";
        Assert.True(File.Exists(analyze), "required tool systemd-analyze is missing; install it (apt-get install -y systemd)");
        var unit = await File.ReadAllTextAsync(RepoFiles.Path("deploy/containerd-lazy-snapshotter.service"));
        var lines = unit.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && l[0] != '#').ToList();
        Assert.Contains("Before=containerd.service", lines);
        Assert.Contains(lines, l => l.StartsWith("CapabilityBoundingSet=", StringComparison.Ordinal) && l.Contains("CAP_SYS_ADMIN"));
        Assert.Contains("NoNewPrivileges=yes", lines);
        Assert.Contains(lines, l => l.StartsWith("RestrictAddressFamilies=", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("LimitNOFILE=", StringComparison.Ordinal));
        // Each of these gives the service a mount namespace whose mounts do not reach containerd (see the unit's comment).
        foreach (var namespacing in new[] { "ProtectSystem=", "ProtectHome=", "PrivateTmp=", "PrivateDevices=", "ReadWritePaths=", "ProtectKernelTunables=", "PrivateMounts=" })
        {
            Assert.DoesNotContain(lines, l => l.StartsWith(namespacing, StringComparison.Ordinal) && !l.EndsWith("=no", StringComparison.Ordinal));
        }

        // verify wants ExecStart's binary to exist: point it at the built apphost (same unit otherwise).
        var apphost = Path.Combine(AppContext.BaseDirectory, "snapshotter");
        var copy = Path.Combine(_dir, "containerd-lazy-snapshotter.service");
        await File.WriteAllTextAsync(copy, unit.Replace("/usr/local/bin/snapshotter", File.Exists(apphost) ? apphost : "/bin/true"));
        using var process = Process.Start(new ProcessStartInfo(analyze, ["verify", copy]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.True(process.ExitCode == 0, output);
        Assert.DoesNotContain("containerd-lazy-snapshotter.service", output);
    }

    private static YamlMappingNode LoadYaml(string relative)
    {
        var stream = new YamlStream();
        using var reader = new StringReader(File.ReadAllText(RepoFiles.Path(relative)));
        stream.Load(reader);
        return (YamlMappingNode)stream.Documents.Single().RootNode;
    }

    private static YamlMappingNode Map(YamlMappingNode node, string key) => (YamlMappingNode)node[key];

    private static string Scalar(YamlMappingNode node, params string[] path)
    {
        YamlNode current = node;
        foreach (var key in path)
        {
            if (current is not YamlMappingNode map || !map.Children.TryGetValue(new YamlScalarNode(key), out var next))
            {
                return "";
            }

            current = next;
        }

        return ((YamlScalarNode)current).Value ?? "";
    }

    private static Dictionary<string, string> ConfigMapData()
    {
        var cm = LoadYaml("deploy/kubernetes/configmap.yaml");
        Assert.Equal("ConfigMap", Scalar(cm, "kind"));
        return Map(cm, "data").Children.ToDictionary(c => ((YamlScalarNode)c.Key).Value!, c => ((YamlScalarNode)c.Value).Value!);
    }

    private string WriteConfigMapConfig()
    {
        var path = Path.Combine(_dir, "configmap-config.json");
        File.WriteAllText(path, ConfigMapData()["config.json"]);
        return path;
    }
}
