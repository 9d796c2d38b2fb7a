using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Snapshotter.Registry.Tests.Infrastructure;

namespace Snapshotter.Tests.Hosting;

/// <summary>
/// A real Prometheus server (Debian package <c>prometheus</c>) in a child process: a temp config scraping one target
/// every second on 127.0.0.1 (job <see cref="Job"/>, the job name of deploy/prometheus/scrape.yml), its own storage dir
/// and a free web port; queried through its HTTP API.
/// </summary>
internal sealed class PrometheusProcess : IAsyncDisposable
{
    /// <summary>The scrape job's name, as in deploy/prometheus/scrape.yml (the alert rules select it).</summary>
    public const string Job = "containerd-lazy-snapshotter";

    private readonly Process _process;
    private readonly string _dir;
    private readonly StringBuilder _log = new();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    private PrometheusProcess(Process process, string dir, int port)
    {
        _process = process;
        _dir = dir;
        Address = $"127.0.0.1:{port}";
    }

    /// <summary>host:port of the web API.</summary>
    public string Address { get; }

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>Starts Prometheus scraping <paramref name="target"/> (host:port) every second, loading <paramref name="ruleFiles"/>.</summary>
    public static async Task<PrometheusProcess> StartAsync(string target, params string[] ruleFiles)
    {
        var binary = "/usr/bin/prometheus";
        if (!File.Exists(binary))
        {
            throw new FileNotFoundException("required tool prometheus is missing; install it (apt-get install -y prometheus)", binary);
        }

        var dir = Directory.CreateTempSubdirectory("prometheus-").FullName;
        var config = new StringBuilder();
        config.AppendLine("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s");
        if (ruleFiles.Length > 0)
        {
            config.AppendLine("rule_files:");
            foreach (var rules in ruleFiles)
            {
                config.AppendLine($"  - {rules}");
            }
        }

        config.AppendLine($"scrape_configs:\n  - job_name: {Job}\n    static_configs:\n      - targets: ['{target}']");
        var configPath = Path.Combine(dir, "prometheus.yml");
        await File.WriteAllTextAsync(configPath, config.ToString());

        var port = FreePort.Get();
        var start = new ProcessStartInfo(binary,
        [
            $"--config.file={configPath}",
            $"--storage.tsdb.path={Path.Combine(dir, "data")}",
            $"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = Process.Start(start)!;
        var prometheus = new PrometheusProcess(process, dir, port);
        process.OutputDataReceived += (_, e) => prometheus.Append(e.Data);
        process.ErrorDataReceived += (_, e) => prometheus.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await prometheus.WaitReadyAsync();
        }
        catch
        {
            await prometheus.DisposeAsync();
            throw;
        }

        return prometheus;
    }

    /// <summary>An instant query at the current time; fails on a parse or evaluation error.</summary>
    public async Task<IReadOnlyList<PromSeries>> QueryAsync(string promql)
    {
        using var response = await _http.GetAsync($"http://{Address}/api/v1/query?query={Uri.EscapeDataString(promql)}");
        var body = await response.Content.ReadAsStringAsync();
        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        if (root.GetProperty("status").GetString() != "success")
        {
            throw new InvalidOperationException($"query {promql} failed: {body}");
        }

        var data = root.GetProperty("data");
        var type = data.GetProperty("resultType").GetString();
        var result = data.GetProperty("result");
        if (type == "scalar")
        {
            return [new PromSeries(new Dictionary<string, string>(), Number(result[1]))];
        }

        if (type != "vector")
        {
            throw new InvalidOperationException($"query {promql}: expected an instant vector, got {type}");
        }

        var series = new List<PromSeries>();
        foreach (var item in result.EnumerateArray())
        {
            var labels = item.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal);
            series.Add(new PromSeries(labels, Number(item.GetProperty("value")[1])));
        }

        return series;
    }

    /// <summary>Polls <paramref name="promql"/> until <paramref name="done"/> holds (scrapes are 1 s apart); fails after <paramref name="timeout"/>.</summary>
    public async Task<IReadOnlyList<PromSeries>> WaitForAsync(string promql, Func<IReadOnlyList<PromSeries>, bool> done, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        IReadOnlyList<PromSeries> last = [];
        while (deadline.Elapsed < (timeout ?? TimeSpan.FromSeconds(60)))
        {
            last = await QueryAsync(promql);
            if (done(last))
            {
                return last;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"query {promql} did not reach the expected value; last answer: "
            + string.Join("; ", last.Select(s => $"{string.Join(",", s.Labels.Select(l => $"{l.Key}={l.Value}"))} = {s.Value}"))
            + $"\nprometheus log:\n{Log}");
    }

    /// <summary>The JSON of <c>GET /api/v1/PATH</c> (rules, targets, ...).</summary>
    public async Task<JsonDocument> ApiAsync(string path)
    {
        var body = await _http.GetStringAsync($"http://{Address}/api/v1/{path}");
        return JsonDocument.Parse(body);
    }

    /// <summary>The loaded rules once Prometheus evaluated each (health no longer "unknown"), or as they are after 60 s.</summary>
    public async Task<IReadOnlyList<(string Name, string Health, string Json)>> WaitForRulesEvaluatedAsync()
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            using var rules = await ApiAsync("rules");
            var all = rules.RootElement.GetProperty("data").GetProperty("groups").EnumerateArray()
                .SelectMany(g => g.GetProperty("rules").EnumerateArray())
                .Select(r => (r.GetProperty("name").GetString()!, r.GetProperty("health").GetString()!, r.ToString()))
                .ToList();
            if (all.All(r => r.Item2 != "unknown") || deadline.Elapsed > TimeSpan.FromSeconds(60))
            {
                return all;
            }

            await Task.Delay(250);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        _http.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static double Number(JsonElement value) =>
        value.GetString() switch
        {
            "+Inf" => double.PositiveInfinity,
            "-Inf" => double.NegativeInfinity,
            "NaN" => double.NaN,
            var s => double.Parse(s!, NumberStyles.Float, CultureInfo.InvariantCulture),
        };

    private async Task WaitReadyAsync()
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"prometheus exited with {_process.ExitCode}:\n{Log}");
            }

            try
            {
                using var response = await _http.GetAsync($"http://{Address}/-/ready");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"prometheus was not ready within 60 s:\n{Log}");
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }
    }
}
