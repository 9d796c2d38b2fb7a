using System.Globalization;
using System.Text;
using Snapshotter.P1.Benchmarks.Image;

namespace Snapshotter.P1.Benchmarks.Measurement;

/// <summary>The markdown of one run: setup, per-rate medians and samples, ratios, bytes, the floor.</summary>
internal static class P1Report
{
    public static string ToMarkdown(P1Options options, GeneratedImage image, SeededImages seeded, IReadOnlyList<Sample> samples, string command, string machine, string lazyMode, DateTimeOffset now)
    {
        var ci = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(ci, $"### Run {now:yyyy-MM-dd HH:mm} UTC ({options.Label}, lazy mode {lazyMode})");
        sb.AppendLine();
        sb.AppendLine(ci, $"- Command: `{command}`");
        sb.AppendLine(ci, $"- Machine: {machine}");
        sb.AppendLine(ci, $"- Image ({BenchImageSpec.Version}): {image.Layers.Count} layers, {image.Layers.Sum(l => l.Files)} files, {MiB(image.FileBytes)} MiB of file data; " +
            $"ordinary (gzip -6 layers): {MB(image.GzipBytes)} MB; lazy ({seeded.Compressor.ToLowerInvariant()}, {seeded.ChunkSize / 1024} KiB chunks): data blobs {MB(seeded.LazyDataBlobBytes.Sum())} MB + bootstrap layer {MB(seeded.BootstrapLayerBytes)} MB.");
        sb.AppendLine();
        sb.AppendLine("| layer | files | file MiB | gzip MB | lazy data blob MB |");
        sb.AppendLine("|---|---:|---:|---:|---:|");
        for (var i = 0; i < image.Layers.Count; i++)
        {
            var l = image.Layers[i];
            var blob = i < seeded.LazyDataBlobBytes.Count ? MB(seeded.LazyDataBlobBytes[i]) : "-";
            sb.AppendLine(ci, $"| {l.Name} | {l.Files} | {MiB(l.FileBytes)} | {MB(l.GzipBytes)} | {blob} |");
        }

        sb.AppendLine();
        var firstLineBytes = image.Reads.Take(2).Sum(r => r.Bytes);
        sb.AppendLine(ci, $"- Container command: `{string.Join(' ', BenchImageSpec.Command.Take(3))} '{BenchImageSpec.Command[3]}'`. " +
            $"It reads {MiB(image.ReadBytes)} MiB = {Pct(image.ReadBytes, image.FileBytes)} of the image's file data " +
            $"({string.Join(", ", image.Reads.Select(r => $"{Path.GetFileName(r.Path)} {KiB(r.Bytes)} KiB"))}); " +
            $"its first line needs busybox and os-release only ({MiB(firstLineBytes)} MiB, {Pct(firstLineBytes, image.FileBytes)}).");
        sb.AppendLine("- Each sample starts from nothing: a new containerd 1.6 and a new `snapshotter serve` (ReadyToRun publish, as shipped) on new root directories " +
            "(containerd reaches the service once, through a probe Prepare in another namespace, before the clock starts), " +
            (options.ColdService
                ? "**cold service**: the measured pull is the service's first pull ever; "
                : "warm daemons: a small other image (busybox) is pulled, run and removed both ways first, and containerd's garbage collector removes its snapshots, content and the service's cached blobs, so both daemons run warm code as after an earlier pull, with nothing of the benchmark image anywhere; ") +
            "then the proxy's connections are closed and its counters zeroed, and the page cache is dropped. " +
            "The clock runs from the start of the pull command (`ctr-remote images rpull --snapshotter nydus` / `ctr images pull --snapshotter overlayfs`, both `--plain-http`) " +
            "through `ctr run --rm` until the container's first stdout line. Bytes are counted at the throttling proxy (registry -> clients, headers included).");
        sb.AppendLine(ci, $"- Rounds: {options.Rounds} per rate after one unrecorded warm-up round; lazy and ordinary alternate, and which goes first alternates per round.");
        sb.AppendLine();
        sb.AppendLine("| link | case | n | pull s | first line s (median) | first-line samples s | ready s | exit s | MB from registry by the first line | MB from registry in all | local start s (image already pulled) |");
        sb.AppendLine("|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|");
        foreach (var rate in samples.Select(s => s.RateMbit).Distinct())
        {
            var lazy = samples.Where(s => s.RateMbit == rate && s.Case == PullCase.Lazy).ToList();
            var ordinary = samples.Where(s => s.RateMbit == rate && s.Case == PullCase.Ordinary).ToList();
            foreach (var (label, set) in new[] { ($"lazy (`{lazyMode}`)", lazy), ("ordinary (overlayfs)", ordinary) })
            {
                if (set.Count == 0)
                {
                    continue;
                }

                sb.AppendLine(ci, $"| {rate} Mbit/s | {label} | {set.Count} | {Median(set, s => s.PullSeconds):F2} | **{Median(set, s => s.FirstLineSeconds):F3}** | " +
                    $"{string.Join(", ", set.Select(s => s.FirstLineSeconds.ToString("F3", ci)))} | {Median(set, s => s.ReadySeconds):F3} | {Median(set, s => s.ExitSeconds):F3} | " +
                    $"{Median(set, s => s.DownAtFirstLine) / 1e6:F2} | {Median(set, s => s.DownTotal) / 1e6:F2} | {Median(set, s => s.LocalFirstLineSeconds):F3} |");
            }

            if (lazy.Count > 0 && ordinary.Count > 0)
            {
                var ratio = Median(ordinary, s => s.FirstLineSeconds) / Median(lazy, s => s.FirstLineSeconds);
                var bytes = Median(lazy, s => s.DownAtFirstLine) / Median(ordinary, s => s.DownAtFirstLine);
                sb.AppendLine(ci, $"| {rate} Mbit/s | **ordinary / lazy, first line** | | | **{ratio:F1}x** | | {Median(ordinary, s => s.ReadySeconds) / Median(lazy, s => s.ReadySeconds):F1}x | | " +
                    $"lazy = {bytes * 100:F1}% of ordinary's bytes | | |");
            }
        }

        sb.AppendLine();
        sb.AppendLine("Where the time goes (medians, seconds from the start of the pull command; from the proxy's request trace):");
        sb.AppendLine();
        sb.AppendLine("| link | case | first registry request (pull client up) | pull command exited | first data Range request (container starting) | last response byte before the first line | first line | Range requests started by the first line / their MB |");
        sb.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|");
        foreach (var rate in samples.Select(s => s.RateMbit).Distinct())
        {
            foreach (var kind in new[] { PullCase.Lazy, PullCase.Ordinary })
            {
                var set = samples.Where(s => s.RateMbit == rate && s.Case == kind).ToList();
                if (set.Count == 0)
                {
                    continue;
                }

                var range = set.Where(s => s.Phases.FirstRangeRequest is not null).ToList();
                sb.AppendLine(ci, $"| {rate} Mbit/s | {(kind == PullCase.Lazy ? "lazy" : "ordinary")} | {Median(set, s => s.Phases.FirstRequest):F3} | {Median(set, s => s.PullSeconds):F3} | " +
                    $"{(range.Count > 0 ? Median(range, s => s.Phases.FirstRangeRequest!.Value).ToString("F3", ci) : "-")} | {Median(set, s => s.Phases.LastByteBeforeFirstLine):F3} | {Median(set, s => s.FirstLineSeconds):F3} | " +
                    $"{Median(set, s => s.Phases.RangeRequestsByFirstLine):F0} / {Median(set, s => s.Phases.RangeBytesByFirstLine) / 1e6:F2} |");
            }
        }

        var floor = samples.Where(s => s.Case == PullCase.Ordinary).ToList();
        var lazyLocal = samples.Where(s => s.Case == PullCase.Lazy).ToList();
        sb.AppendLine();
        if (floor.Count > 0)
        {
            sb.AppendLine(ci, $"- Floor (ordinary image already pulled and unpacked, page cache dropped, `ctr run` only): first line after **{Median(floor, s => s.LocalFirstLineSeconds):F3} s** " +
                $"(median of {floor.Count}: {string.Join(", ", floor.Select(s => s.LocalFirstLineSeconds.ToString("F3", ci)))}).");
        }

        if (lazyLocal.Count > 0)
        {
            sb.AppendLine(ci, $"- Lazy image started again after its sample (the data it read is cached by the service; page cache dropped): {Median(lazyLocal, s => s.LocalFirstLineSeconds):F3} s (median of {lazyLocal.Count}).");
            var requests = lazyLocal.Select(s => s.RequestsAtFirstLine).Order().ToList();
            sb.AppendLine(ci, $"- Lazy samples, registry requests by the first line: {string.Join(", ", requests)}.");
        }

        return sb.ToString();
    }

    public static double Median<T>(IEnumerable<T> items, Func<T, double> value)
    {
        var sorted = items.Select(value).Order().ToList();
        return sorted.Count == 0 ? double.NaN : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string MiB(long bytes) => (bytes / 1048576.0).ToString("F1", CultureInfo.InvariantCulture);

    private static string MB(long bytes) => (bytes / 1e6).ToString("F1", CultureInfo.InvariantCulture);

    private static string KiB(long bytes) => (bytes / 1024.0).ToString("F0", CultureInfo.InvariantCulture);

    private static string Pct(long part, long whole) => (100.0 * part / whole).ToString("F1", CultureInfo.InvariantCulture) + "%";
}
