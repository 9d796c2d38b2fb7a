using System.Diagnostics;
using System.Globalization;

namespace Snapshotter.P1.Benchmarks.Measurement;

/// <summary>
/// A private tracefs instance (<c>/sys/kernel/tracing/instances/p1-PID</c>, clock <c>mono</c>, the clock of
/// <see cref="Stopwatch"/>) recording FUSE requests, EROFS reads and execs during a sample, for <c>--kernel-trace</c>:
/// shows which READs the container's start sends and when its processes exec.
/// </summary>
internal sealed class KernelTrace : IDisposable
{
    private static readonly string[] Events =
    [
        "fuse/fuse_request_send", "fuse/fuse_request_end", "erofs/erofs_readahead", "erofs/erofs_read_folio", "sched/sched_process_exec",
    ];

    private readonly string _instance = $"/sys/kernel/tracing/instances/p1-{Environment.ProcessId}";

    public KernelTrace()
    {
        Directory.CreateDirectory(_instance);
        File.WriteAllText(Path.Combine(_instance, "trace_clock"), "mono");
        File.WriteAllText(Path.Combine(_instance, "buffer_size_kb"), "16384");
        foreach (var e in Events)
        {
            File.WriteAllText(Path.Combine(_instance, "events", e, "enable"), "1");
        }

        File.WriteAllText(Path.Combine(_instance, "tracing_on"), "1");
    }

    /// <summary>Stops recording; returns the events as (seconds since <paramref name="start"/>, text), FUSE lines only for <paramref name="keep"/>.</summary>
    public List<(double At, string Text)> Stop(long start, Func<string, bool> keep)
    {
        File.WriteAllText(Path.Combine(_instance, "tracing_on"), "0");
        var origin = start / (double)Stopwatch.Frequency;
        var events = new List<(double, string)>();
        foreach (var line in File.ReadLines(Path.Combine(_instance, "trace")))
        {
            // "   task-pid   [cpu] flags  12345.678901: event: details"
            var colon = line.IndexOf(": ", StringComparison.Ordinal);
            if (line.StartsWith('#') || colon < 0)
            {
                continue;
            }

            var space = line.LastIndexOf(' ', colon);
            if (!double.TryParse(line[(space + 1)..colon], NumberStyles.Float, CultureInfo.InvariantCulture, out var at))
            {
                continue;
            }

            var task = line[..line.IndexOf('[', StringComparison.Ordinal)].Trim();
            var text = line[(colon + 2)..];
            if (keep(text))
            {
                events.Add((at - origin, $"kernel {task}: {text}"));
            }
        }

        return events;
    }

    public void Dispose()
    {
        try
        {
            File.WriteAllText(Path.Combine(_instance, "tracing_on"), "0");
            foreach (var e in Events)
            {
                File.WriteAllText(Path.Combine(_instance, "events", e, "enable"), "0");
            }

            Directory.Delete(_instance);
        }
        catch (IOException)
        {
            // Best effort: a leftover instance only holds a buffer.
        }
    }
}
