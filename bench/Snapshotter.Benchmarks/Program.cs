using Snapshotter.Benchmarks;
using Snapshotter.Benchmarks.Hosting;
using Snapshotter.Benchmarks.Measurement;

// Foundation benchmark: our snapshotter vs containerd's built-in overlayfs, through containerd.
var options = BenchOptions.Parse(args);
using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cts.Cancel();
};

await using var host = await BenchHost.StartAsync(startService: options.Candidate == BenchHost.ProxyName, options.SnapshotterDll, cts.Token);
Console.Error.WriteLine($"containerd pid {host.ContainerdPid}, dir {host.Directory}");
var result = await new FoundationBenchmark(options, host, Console.Error).RunAsync(cts.Token);
string command = Environment.GetEnvironmentVariable("BENCH_COMMAND") is { Length: > 0 } c ? c : "Snapshotter.Benchmarks " + string.Join(' ', args);
string markdown = result.ToMarkdown(command, DateTimeOffset.UtcNow);
Console.WriteLine(markdown);
if (options.Output is { } output)
{
    // The newest run goes first in this benchmark's section of the shared results file.
    const string section = "## Snapshotter service through containerd\n";
    string existing = File.Exists(output) ? await File.ReadAllTextAsync(output, cts.Token) : "# Benchmark results\n\n" + section;
    int at = existing.IndexOf(section, StringComparison.Ordinal);
    existing = at < 0 ? existing + "\n" + section : existing;
    at = existing.IndexOf(section, StringComparison.Ordinal) + section.Length;
    await File.WriteAllTextAsync(output, existing[..at] + "\n" + markdown + "\n" + existing[at..], cts.Token);
}

return 0;
