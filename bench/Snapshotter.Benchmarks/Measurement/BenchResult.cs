using System.Globalization;
using System.Text;

namespace Snapshotter.Benchmarks.Measurement;

/// <summary>Everything one run measured, and its markdown rendering.</summary>
internal sealed record BenchResult(
    BenchOptions Options,
    LatencySummary CandidateCycle,
    LatencySummary BaselineCycle,
    LatencySummary CandidateStat,
    LatencySummary BaselineStat,
    LatencySummary? DirectStat,
    CpuCost CandidateStatCpu,
    CpuCost BaselineStatCpu,
    CpuCost DirectStatCpu,
    double CandidateCreateSeconds,
    double BaselineCreateSeconds,
    double CandidateRemoveSeconds,
    double BaselineRemoveSeconds,
    long? RssIdleKiB,
    long? RssBeforeKiB,
    long? RssFullKiB,
    long? RssAfterKiB)
{
    public string ToMarkdown(string command, DateTimeOffset when)
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        string cand = Options.Candidate;
        string bl = Options.Baseline;
        sb.AppendLine(c, $"### Run {when:yyyy-MM-dd HH:mm} UTC");
        sb.AppendLine();
        sb.AppendLine(c, $"- Command: `{command}`");
        if (Options.SnapshotterDll is { } dll)
        {
            sb.AppendLine(c, $"- Service measured: `{dll}`");
        }

        sb.AppendLine(c, $"- Machine: {Environment.ProcessorCount} CPUs (`nproc`), {ProcStatus.CpuModel()}, kernel {ProcStatus.Kernel()}, .NET {Environment.Version}");
        sb.AppendLine(c, $"- Driven through containerd 1.6's snapshots API (`containerd.services.snapshots.v1.Snapshots` on containerd's socket, namespace `bench`): `{cand}` vs built-in `{bl}`, interleaved in {Options.Rounds} rounds (alternating which goes first) after 1 warm-up round; per round {Options.Cycles} cycles and {Options.Stats} Stats per snapshotter, sequential.");
        sb.AppendLine("- Cycle = Prepare(extract key, parent) + Commit(chain name) + Remove(name) + Remove(extract key, NOT_FOUND tolerated) as containerd's unpacker does. containerd's Remove drops only its metadata; its GC removes the backend snapshot later (default GC thresholds), so GC work overlaps the measurement for both snapshotters alike.");
        sb.AppendLine();
        sb.AppendLine(c, $"| operation (ms) | snapshotter | n | p50 | p90 | p99 | mean |");
        sb.AppendLine("|---|---|---:|---:|---:|---:|---:|");
        Row(sb, "Prepare+Commit+Remove", cand, CandidateCycle);
        Row(sb, "Prepare+Commit+Remove", bl, BaselineCycle);
        Ratio(sb, "Prepare+Commit+Remove", CandidateCycle, BaselineCycle);
        Row(sb, "Stat", cand, CandidateStat);
        Row(sb, "Stat", bl, BaselineStat);
        Ratio(sb, "Stat", CandidateStat, BaselineStat);
        if (DirectStat is { } direct)
        {
            Row(sb, "Stat, our socket directly (no containerd)", cand, direct);
        }
        sb.AppendLine();
        sb.AppendLine(c, $"| CPU per Stat (/proc ticks over the measured Stats) | `{cand}` through containerd | `{bl}` through containerd | our socket directly |");
        sb.AppendLine("|---|---:|---:|---:|");
        sb.AppendLine(c, $"| `snapshotter serve` CPU, µs | {CandidateStatCpu.ServiceCpuUs:F0} | {BaselineStatCpu.ServiceCpuUs:F0} | {DirectStatCpu.ServiceCpuUs:F0} |");
        sb.AppendLine(c, $"| `snapshotter serve` context switches | {CandidateStatCpu.ServiceSwitches:F1} | {BaselineStatCpu.ServiceSwitches:F1} | {DirectStatCpu.ServiceSwitches:F1} |");
        sb.AppendLine(c, $"| containerd CPU, µs | {CandidateStatCpu.ContainerdCpuUs:F0} | {BaselineStatCpu.ContainerdCpuUs:F0} | {DirectStatCpu.ContainerdCpuUs:F0} |");
        sb.AppendLine();
        sb.AppendLine(c, $"| {Options.Snapshots} committed snapshots | {cand} | {bl} | ratio |");
        sb.AppendLine("|---|---:|---:|---:|");
        sb.AppendLine(c, $"| create (Prepare+Commit each), s | {CandidateCreateSeconds:F2} | {BaselineCreateSeconds:F2} | {CandidateCreateSeconds / BaselineCreateSeconds:F2}x |");
        sb.AppendLine(c, $"| remove all + synchronous GC, s | {CandidateRemoveSeconds:F2} | {BaselineRemoveSeconds:F2} | {CandidateRemoveSeconds / BaselineRemoveSeconds:F2}x |");
        sb.AppendLine();
        if (RssIdleKiB is { } idle)
        {
            sb.AppendLine("| `snapshotter serve` RSS (VmRSS) | MiB |");
            sb.AppendLine("|---|---:|");
            sb.AppendLine(c, $"| idle, 2 s after start | {idle / 1024.0:F1} |");
            sb.AppendLine(c, $"| after the latency rounds | {RssBeforeKiB / 1024.0:F1} |");
            sb.AppendLine(c, $"| with {Options.Snapshots} more committed snapshots | {RssFullKiB / 1024.0:F1} |");
            sb.AppendLine(c, $"| after removing them (+GC) | {RssAfterKiB / 1024.0:F1} |");
        }
        else
        {
            sb.AppendLine(c, $"RSS not measured: the candidate `{cand}` is not our service.");
        }

        return sb.ToString();
    }

    private static void Row(StringBuilder sb, string op, string name, LatencySummary s) =>
        sb.AppendLine(CultureInfo.InvariantCulture, $"| {op} | {name} | {s.Count} | {s.P50:F3} | {s.P90:F3} | {s.P99:F3} | {s.Mean:F3} |");

    private static void Ratio(StringBuilder sb, string op, LatencySummary a, LatencySummary b) =>
        sb.AppendLine(CultureInfo.InvariantCulture, $"| {op} | **ratio** | | **{a.P50 / b.P50:F2}x** | {a.P90 / b.P90:F2}x | {a.P99 / b.P99:F2}x | **{a.Mean / b.Mean:F2}x** |");
}
