using System.Diagnostics;
using Snapshotter.Telemetry;

// What one lazy READ pays for its metrics: the calls FuseBlobFile/OnDemandDaemon make per READ (two Stopwatch reads
// and SnapshotterMetrics.RecordRead), with the exporter off (serve --metrics-address "": no MeterProvider) and on (the
// OpenTelemetry SDK and Prometheus exporter as TelemetrySetup configures them, scraped every second over HTTP).
// Variants are interleaved round by round; medians are reported.
var calls = args.Length > 0 ? long.Parse(args[0]) : 20_000_000;
var rounds = args.Length > 1 ? int.Parse(args[1]) : 5;
int[] threadCounts = [1, 2];
var results = new Dictionary<(string Variant, int Threads), List<(double Ns, double Bytes)>>();

for (var round = 0; round < rounds; round++)
{
    foreach (var variant in round % 2 == 0 ? new[] { "off", "on" } : ["on", "off"])
    {
        foreach (var threads in threadCounts)
        {
            using var metrics = new SnapshotterMetrics();
            await using var exporter = variant == "on" ? await Exporter.StartAsync() : null;
            var (ns, bytes) = Measure(metrics, calls, threads);
            var scrapes = exporter?.Scrapes ?? 0;
            if (metrics.ReadRequestCount != calls / threads * threads + 200_000)
            {
                throw new InvalidOperationException($"counted {metrics.ReadRequestCount} READs, made {(calls / threads * threads) + 200_000}");
            }

            Console.Error.WriteLine($"round {round} {variant,-3} threads {threads}: {ns:F1} ns/READ, {bytes:F3} B/READ allocated, {scrapes} scrapes");
            (results.TryGetValue((variant, threads), out var list) ? list : results[(variant, threads)] = []).Add((ns, bytes));
        }
    }
}

Console.WriteLine($"| variant | threads | ns per READ (median of {rounds}) | min..max | bytes allocated per READ |");
Console.WriteLine("|---|---|---|---|---|");
foreach (var ((variant, threads), list) in results.OrderBy(r => r.Key.Threads).ThenBy(r => r.Key.Variant))
{
    var ns = list.Select(r => r.Ns).Order().ToList();
    Console.WriteLine($"| exporter {variant} | {threads} | {ns[ns.Count / 2]:F1} | {ns[0]:F1}..{ns[^1]:F1} | {list.Max(r => r.Bytes):F3} |");
}

return 0;

static (double NsPerCall, double BytesPerCall) Measure(SnapshotterMetrics metrics, long calls, int threads)
{
    // Warm up (JIT tiering, the SDK's metric points for the backend label).
    Loop(metrics, 200_000);
    var allocated = GC.GetTotalAllocatedBytes(precise: true);
    var sw = Stopwatch.StartNew();
    var perThread = calls / threads;
    var workers = Enumerable.Range(0, threads).Select(_ => new Thread(() => Loop(metrics, perThread))).ToList();
    workers.ForEach(t => t.Start());
    workers.ForEach(t => t.Join());
    sw.Stop();
    var bytes = GC.GetTotalAllocatedBytes(precise: true) - allocated;

    // Wall time per READ per thread: what each READ's thread spends on metrics.
    return (sw.Elapsed.TotalNanoseconds * threads / (perThread * threads), (double)bytes / (perThread * threads));
}

static void Loop(SnapshotterMetrics metrics, long count)
{
    for (long i = 0; i < count; i++)
    {
        var started = Stopwatch.GetTimestamp();
        metrics.RecordRead(ReadBackend.Fuse, 131072, Stopwatch.GetElapsedTime(started).TotalSeconds, failed: false);
    }
}
