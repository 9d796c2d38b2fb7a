using System.Globalization;
using Snapshotter.P1.Benchmarks;
using Snapshotter.P1.Benchmarks.Hosting;
using Snapshotter.P1.Benchmarks.Image;
using Snapshotter.P1.Benchmarks.Measurement;
using Snapshotter.P1.Benchmarks.Proxy;

// P1 (issues "lazy pulling through containerd" and "FUSE blob backend"): time from the start of a pull to the container's
// first output line, lazy image on our service vs the ordinary image on containerd's overlayfs, registry behind a
// throttling proxy. bench/run-p1.sh builds, publishes the service and runs this (on the host, or in the VM with --vm).
P1Options options;
try
{
    options = P1Options.Parse(args);
}
catch (Exception e) when (e is ArgumentException or FormatException)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

if (options.Help)
{
    Console.WriteLine(P1Options.Usage);
    return 0;
}

if (options.InsertReport is { } reportFile)
{
    if (options.Output is null)
    {
        Console.Error.WriteLine("--insert-report needs --output");
        return 2;
    }

    await ResultsFile.InsertAsync(options.Output, await File.ReadAllTextAsync(reportFile));
    return 0;
}

using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cts.Cancel();
};
var log = Console.Error;
var ci = CultureInfo.InvariantCulture;
var loadAtStart = File.ReadAllText("/proc/loadavg").Split(' ')[0];

var image = await ImageGenerator.EnsureAsync(options.CacheDirectory, log, cts.Token);
Directory.CreateDirectory(options.WorkDirectory);
var storage = Path.Combine(options.CacheDirectory, BenchImageSpec.Version, "registry");
var warmLayout = await ImageGenerator.EnsureWarmAsync(options.CacheDirectory, log, cts.Token);
var seeded = await ImageSeeder.EnsureAsync(storage, image, warmLayout, options.WorkDirectory, log, cts.Token);
foreach (var (layer, i) in image.Layers.Select((l, i) => (l, i)))
{
    log.WriteLine(string.Create(ci, $"image: layer {i} '{layer.Name}': {layer.Files} files, {layer.FileBytes / 1048576.0:F1} MiB of files, gzip {layer.GzipBytes / 1e6:F1} MB, " +
        $"lazy data blob {(i < seeded.LazyDataBlobBytes.Count ? seeded.LazyDataBlobBytes[i] / 1e6 : 0):F1} MB"));
}

log.WriteLine(string.Create(ci, $"image: {image.FileBytes / 1048576.0:F1} MiB of files; the command reads {image.ReadBytes / 1048576.0:F2} MiB = {100.0 * image.ReadBytes / image.FileBytes:F1}%; bootstrap layer {seeded.BootstrapLayerBytes / 1e6:F2} MB"));
if (options.PrepareOnly)
{
    return 0;
}

if (options.CopyRegistry)
{
    // The VM sees the cache read-only; docker-registry then serves a copy on the guest's own disk.
    var copy = Path.Combine(options.WorkDirectory, "registry-storage");
    if (!Directory.Exists(copy))
    {
        await Tool.RunAsync("cp", ["-a", storage, copy], cts.Token);
    }

    storage = copy;
}

await using var registry = await RegistryServer.StartAsync(storage, Path.Combine(options.WorkDirectory, "registry"), cts.Token);
await using var proxy = new ThrottlingProxy(registry.EndPoint);
var runner = new SampleRunner(options, proxy, image, seeded, log);
log.WriteLine($"p1: registry on {registry.EndPoint}, proxy on 127.0.0.1:{proxy.Port}");
bool Measured(PullCase kind) => options.Only is null || string.Equals(options.Only, kind.ToString(), StringComparison.OrdinalIgnoreCase);
if (options.Warmup)
{
    log.WriteLine($"p1: warm-up round at {options.RatesMbit[0]} Mbit/s (not recorded)");
    foreach (var kind in new[] { PullCase.Lazy, PullCase.Ordinary }.Where(Measured))
    {
        await runner.RunAsync(kind, options.RatesMbit[0], 0, cts.Token);
    }
}

var samples = new List<Sample>();
foreach (var rate in options.RatesMbit)
{
    for (var round = 1; round <= options.Rounds; round++)
    {
        PullCase[] order = round % 2 == 1 ? [PullCase.Lazy, PullCase.Ordinary] : [PullCase.Ordinary, PullCase.Lazy];
        foreach (var kind in order.Where(Measured))
        {
            samples.Add(await runner.RunAsync(kind, rate, round, cts.Token));
        }
    }
}

var machine = string.Create(ci,
    $"{Environment.ProcessorCount} CPUs ({CpuModel()}), kernel {File.ReadAllText("/proc/sys/kernel/osrelease").Trim()}, .NET {Environment.Version}, " +
    $"load average {loadAtStart} at the start, {File.ReadAllText("/proc/loadavg").Split(' ')[0]} at the end");
var command = Environment.GetEnvironmentVariable("BENCH_COMMAND") is { Length: > 0 } c ? c : "Snapshotter.P1.Benchmarks " + string.Join(' ', args);
var lazyMode = samples.FirstOrDefault(s => s.LazyMode is not null)?.LazyMode ?? options.LazyMode;
var markdown = P1Report.ToMarkdown(options, image, seeded, samples, command, machine, lazyMode, DateTimeOffset.UtcNow);
Console.WriteLine(markdown);
if (options.Report is { } report)
{
    await File.WriteAllTextAsync(report, markdown, cts.Token);
}

if (options.Output is { } output)
{
    await ResultsFile.InsertAsync(output, markdown, cts.Token);
}

return 0;

static string CpuModel() =>
    File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";
