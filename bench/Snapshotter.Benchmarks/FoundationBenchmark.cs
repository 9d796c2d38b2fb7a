using System.Diagnostics;
using Snapshotter.Benchmarks.Grpc;
using Snapshotter.Benchmarks.Hosting;
using Snapshotter.Benchmarks.Measurement;
using Snapshotter.Containerd.Snapshots;
using Snapshotter.Tests.Hosting;

namespace Snapshotter.Benchmarks;

/// <summary>
/// Latency of Prepare+Commit+Remove and of Stat through containerd's snapshots API for the
/// candidate (our proxy plugin) and the built-in overlayfs, interleaved in rounds in one run;
/// then the service's RSS idle, with N committed snapshots and after removing them.
/// </summary>
internal sealed class FoundationBenchmark(BenchOptions options, BenchHost host, TextWriter log)
{
    private static readonly Dictionary<string, string> GcRoot = new() { ["containerd.io/gc.root"] = "bench" };
    private readonly Dictionary<string, int> _sequence = [];

    public async Task<BenchResult> RunAsync(CancellationToken cancellationToken = default)
    {
        bool measureService = options.Candidate == BenchHost.ProxyName;
        await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
        long? rssIdle = measureService ? ProcStatus.VmRssKiB(host.SnapshotterPid) : null;

        using var channel = UnixSocketChannel.Create(host.ContainerdAddress);
        var client = new Snapshots.SnapshotsClient(channel);
        var candidate = new ContainerdSnapshots(client, "bench", options.Candidate);
        var baseline = new ContainerdSnapshots(client, "bench", options.Baseline);
        foreach (var s in new[] { candidate, baseline })
        {
            await s.PrepareAsync("base-active", "", GcRoot, cancellationToken).ConfigureAwait(false);
            await s.CommitAsync("base", "base-active", GcRoot, cancellationToken).ConfigureAwait(false);
            await s.PrepareAsync("stat-active", "base", GcRoot, cancellationToken).ConfigureAwait(false);
            await s.CommitAsync("stat-target", "stat-active", GcRoot, cancellationToken).ConfigureAwait(false);
        }

        // Our socket directly (no containerd in between), to split the Stat cost into containerd's part and ours.
        using var directChannel = measureService ? UnixSocketChannel.Create(host.SnapshotterAddress) : null;
        var direct = directChannel is null ? null : new ContainerdSnapshots(new Snapshots.SnapshotsClient(directChannel), "bench", "");
        string? directKey = direct is null ? null
            : (await direct.ListAsync(cancellationToken).ConfigureAwait(false)).Single(i => i.Name.EndsWith("/stat-target", StringComparison.Ordinal)).Name;
        var directStats = new List<double>();

        int? servicePid = measureService ? host.SnapshotterPid : null;
        var statCpu = new Dictionary<string, CpuCost>
        {
            [candidate.Snapshotter] = new(servicePid, host.ContainerdPid),
            [baseline.Snapshotter] = new(servicePid, host.ContainerdPid),
        };
        var directCpu = new CpuCost(servicePid, host.ContainerdPid);
        var cycles = new Dictionary<string, List<double>> { [candidate.Snapshotter] = [], [baseline.Snapshotter] = [] };
        var stats = new Dictionary<string, List<double>> { [candidate.Snapshotter] = [], [baseline.Snapshotter] = [] };

        // Round 0 warms up JIT, connections and caches on both sides and is not recorded.
        for (int round = 0; round <= options.Rounds; round++)
        {
            var order = round % 2 == 0 ? new[] { candidate, baseline } : [baseline, candidate];
            foreach (var s in order)
            {
                var c = await CyclesAsync(s, options.Cycles, cancellationToken).ConfigureAwait(false);
                var t = round > 0
                    ? await statCpu[s.Snapshotter].MeasureAsync(options.Stats, () => StatsAsync(s, "stat-target", options.Stats, cancellationToken)).ConfigureAwait(false)
                    : await StatsAsync(s, "stat-target", options.Stats, cancellationToken).ConfigureAwait(false);
                if (round > 0)
                {
                    cycles[s.Snapshotter].AddRange(c);
                    stats[s.Snapshotter].AddRange(t);
                }
            }

            if (direct is not null)
            {
                var d = round > 0
                    ? await directCpu.MeasureAsync(options.Stats, () => StatsAsync(direct, directKey!, options.Stats, cancellationToken)).ConfigureAwait(false)
                    : await StatsAsync(direct, directKey!, options.Stats, cancellationToken).ConfigureAwait(false);
                if (round > 0)
                {
                    directStats.AddRange(d);
                }
            }

            log.WriteLine($"round {round}/{options.Rounds} done");
        }

        // containerd's Remove only drops metadata; its GC removes backend snapshots. Settle that first.
        await host.CollectGarbageAsync(cancellationToken).ConfigureAwait(false);

        var create = new Dictionary<string, double>();
        var remove = new Dictionary<string, double>();
        long? rssBefore = measureService ? ProcStatus.VmRssKiB(host.SnapshotterPid) : null;
        long? rssFull = null;
        long? rssAfter = null;
        foreach (var s in new[] { candidate, baseline })
        {
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < options.Snapshots; i++)
            {
                await s.PrepareAsync($"many-{i}-active", "base", GcRoot, cancellationToken).ConfigureAwait(false);
                await s.CommitAsync($"many-{i}", $"many-{i}-active", GcRoot, cancellationToken).ConfigureAwait(false);
            }

            create[s.Snapshotter] = sw.Elapsed.TotalSeconds;
            if (s == candidate && measureService)
            {
                rssFull = ProcStatus.VmRssKiB(host.SnapshotterPid);
            }

            sw.Restart();
            for (int i = 0; i < options.Snapshots; i++)
            {
                await s.RemoveAsync($"many-{i}", cancellationToken).ConfigureAwait(false);
            }

            await host.CollectGarbageAsync(cancellationToken).ConfigureAwait(false);
            remove[s.Snapshotter] = sw.Elapsed.TotalSeconds;
            if (s == candidate && measureService)
            {
                rssAfter = ProcStatus.VmRssKiB(host.SnapshotterPid);
            }

            log.WriteLine($"{options.Snapshots} snapshots on {s.Snapshotter}: created in {create[s.Snapshotter]:F1} s, removed (+GC) in {remove[s.Snapshotter]:F1} s");
        }

        return new BenchResult(
            options,
            LatencySummary.Of(cycles[candidate.Snapshotter]),
            LatencySummary.Of(cycles[baseline.Snapshotter]),
            LatencySummary.Of(stats[candidate.Snapshotter]),
            LatencySummary.Of(stats[baseline.Snapshotter]),
            directStats.Count > 0 ? LatencySummary.Of(directStats) : null,
            statCpu[candidate.Snapshotter],
            statCpu[baseline.Snapshotter],
            directCpu,
            create[candidate.Snapshotter],
            create[baseline.Snapshotter],
            remove[candidate.Snapshotter],
            remove[baseline.Snapshotter],
            rssIdle,
            rssBefore,
            rssFull,
            rssAfter);
    }

    /// <summary>One layer's life in containerd's unpacker: Prepare an extract key, Commit it under its chain name, then Remove both.</summary>
    private async Task<List<double>> CyclesAsync(ContainerdSnapshots s, int count, CancellationToken cancellationToken)
    {
        var samples = new List<double>(count);
        for (int i = 0; i < count; i++)
        {
            int n = Next(s.Snapshotter);
            string key = $"extract-{n}";
            string name = $"layer-{n}";
            long start = Stopwatch.GetTimestamp();
            await s.PrepareAsync(key, "base", GcRoot, cancellationToken).ConfigureAwait(false);
            await s.CommitAsync(name, key, GcRoot, cancellationToken).ConfigureAwait(false);
            await s.RemoveAsync(name, cancellationToken).ConfigureAwait(false);
            await s.RemoveIfExistsAsync(key, cancellationToken).ConfigureAwait(false);
            samples.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }

        return samples;
    }

    private static async Task<List<double>> StatsAsync(ContainerdSnapshots s, string key, int count, CancellationToken cancellationToken)
    {
        var samples = new List<double>(count);
        for (int i = 0; i < count; i++)
        {
            long start = Stopwatch.GetTimestamp();
            var info = await s.StatAsync(key, cancellationToken).ConfigureAwait(false);
            samples.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            if (!info.Parent.EndsWith("base", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"{s.Snapshotter}: Stat returned parent '{info.Parent}', expected 'base'");
            }
        }

        return samples;
    }

    private int Next(string snapshotter)
    {
        _sequence.TryGetValue(snapshotter, out int n);
        _sequence[snapshotter] = n + 1;
        return n;
    }
}
