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

await using var host = await BenchHost.StartAsync(startService: options.Candidate == BenchHost.ProxyName, cts.Token);
Console.Error.WriteLine($"containerd pid {host.ContainerdPid}, dir {host.Directory}");
var result = await new FoundationBenchmark(options, host, Console.Error).RunAsync(cts.Token);
string command = Environment.GetEnvironmentVariable("BENCH_COMMAND") is { Length: > 0 } c ? c : "Snapshotter.Benchmarks " + string.Join(' ', args);
string markdown = result.ToMarkdown(command, DateTimeOffset.UtcNow);
Console.WriteLine(markdown);
if (options.Output is { } output)
{
    string header = "# Benchmark results\n\nWritten by `bench/run-foundation.sh` (bench/Snapshotter.Benchmarks); newest run first.\n\n";
    string previous = File.Exists(output) ? File.ReadAllText(output).Replace(header, "", StringComparison.Ordinal) : "";
    await File.WriteAllTextAsync(output, header + markdown + "\n" + previous, cts.Token);
}

return 0;
