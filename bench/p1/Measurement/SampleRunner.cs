using System.Diagnostics;
using System.Globalization;
using Snapshotter.P1.Benchmarks.Hosting;
using Snapshotter.P1.Benchmarks.Image;
using Snapshotter.P1.Benchmarks.Interop;
using Snapshotter.P1.Benchmarks.Proxy;

namespace Snapshotter.P1.Benchmarks.Measurement;

/// <summary>
/// Takes one sample: a fresh containerd and service (<see cref="SampleEnvironment"/>), the proxy reset (no connection,
/// counters zero) at the sample's rate, page cache dropped; then the stopwatch runs from the start of the pull command
/// until the container's first output line (and on to its exit); then the same image is started once more from local
/// data (page cache dropped again).
/// </summary>
internal sealed class SampleRunner(P1Options options, ThrottlingProxy proxy, GeneratedImage image, SeededImages seeded, TextWriter log)
{
    private int _samples;

    public string Reference(PullCase kind) =>
        $"127.0.0.1:{proxy.Port}/{(kind == PullCase.Lazy ? seeded.LazyRepository : seeded.OrdinaryRepository)}:{seeded.Tag}";

    public async Task<Sample> RunAsync(PullCase kind, long rateMbit, int round, CancellationToken cancellationToken = default)
    {
        var n = Interlocked.Increment(ref _samples);
        var name = $"s{n}";
        await using var env = await SampleEnvironment.StartAsync(
            Path.Combine(options.WorkDirectory, name), Path.Combine(options.StateDirectory, name), options, cancellationToken);
        var reference = Reference(kind);
        var snapshotter = kind == PullCase.Lazy ? SampleEnvironment.LazySnapshotter : "overlayfs";
        string[] pull = kind == PullCase.Lazy
            ? ["ctr-remote", .. env.Ctr("images", "rpull", "--plain-http", "--snapshotter", snapshotter, reference)]
            : ["ctr", .. env.Ctr("images", "pull", "--plain-http", "--snapshotter", snapshotter, reference)];

        proxy.BitsPerSecond = rateMbit * 1_000_000;
        if (!options.ColdService)
        {
            await WarmUpAsync(env, cancellationToken);
        }

        proxy.Reset();
        Libc.DropCaches();

        using var kernel = options.KernelTrace ? new KernelTrace() : null;
        var startUtc = DateTime.UtcNow;
        var start = Stopwatch.GetTimestamp();
        await Tool.RunAsync(pull[0], pull[1..], cancellationToken);
        var pullSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        long downAtFirst = 0, upAtFirst = 0;
        var requestsAtFirst = 0;
        var devices = new List<string>();
        var run = new ContainerRun
        {
            OnFirstLine = () =>
            {
                devices.AddRange(env.Devices("erofs"));
                devices.AddRange(env.Devices("fuse"));
                downAtFirst = proxy.BytesDown;
                upAtFirst = proxy.BytesUp;
                requestsAtFirst = proxy.Trace.Count;
            },
        };
        await run.RunAsync("ctr", RunArgs(env, snapshotter, reference, $"{name}a"), start, cancellationToken);
        Check(run, kind);
        var down = proxy.BytesDown;
        var up = proxy.BytesUp;
        // Only this sample's mounts (other jobs on the machine use FUSE and EROFS too); execs of every process.
        var kernelEvents = kernel?.Stop(start, text => text.StartsWith("sched_", StringComparison.Ordinal) || devices.Any(d =>
            text.Contains($"connection {d.Split(':')[1]} ", StringComparison.Ordinal) || text.Contains($"dev = ({d.Replace(':', ',')})", StringComparison.Ordinal))) ?? [];
        var trace = Describe(proxy.Trace, start, startUtc, kind == PullCase.Lazy ? env.ServeLog : null, run.ExitSeconds, kernelEvents);

        // The same image again, already local (page cache dropped): the floor.
        Libc.DropCaches();
        var again = new ContainerRun();
        var requestsBefore = proxy.Trace.Count;
        var localStartUtc = DateTime.UtcNow;
        var localStart = Stopwatch.GetTimestamp();
        await again.RunAsync("ctr", RunArgs(env, snapshotter, reference, $"{name}b"), localStart, cancellationToken);
        Check(again, kind);
        var localTrace = options.Trace
            ? Describe([.. proxy.Trace.Skip(requestsBefore)], localStart, localStartUtc, kind == PullCase.Lazy ? env.ServeLog : null, again.ExitSeconds, [])
            : [];

        var mode = kind == PullCase.Lazy ? CheckLazy(env.ServeLog) : null;
        var phases = Phases(proxy.Trace, start, run.Lines[0].Seconds);
        var sample = new Sample(kind, rateMbit, round, pullSeconds, run.Lines[0].Seconds, run.Lines[^1].Seconds, run.ExitSeconds,
            downAtFirst, upAtFirst, down, up, requestsAtFirst, again.Lines[0].Seconds, mode, phases, trace);
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"p1: {rateMbit} Mbit/s round {round} {kind}: pull {pullSeconds:F3} s, first line {sample.FirstLineSeconds:F3} s, ready {sample.ReadySeconds:F3} s, " +
            $"exit {sample.ExitSeconds:F3} s; down {downAtFirst / 1e6:F2} MB by the first line, {down / 1e6:F2} MB in all ({proxy.Trace.Count} requests); local start {sample.LocalFirstLineSeconds:F3} s"));
        if (options.Trace)
        {
            foreach (var line in trace)
            {
                log.WriteLine("    " + line);
            }

            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"p1: local start of the same image (first line {sample.LocalFirstLineSeconds:F3} s), on its own clock:"));
            foreach (var line in localTrace)
            {
                log.WriteLine("    " + line);
            }
        }

        return sample;
    }

    /// <summary>
    /// Pulls and runs the warm-up image both ways, then removes it and lets containerd's garbage collector remove its
    /// snapshots, content and (through Cleanup) the service's cached blobs: the service and containerd then run warm
    /// code, as daemons that have pulled an image before, with nothing of the benchmark image anywhere.
    /// </summary>
    private async Task WarmUpAsync(SampleEnvironment env, CancellationToken cancellationToken)
    {
        var lazy = $"127.0.0.1:{proxy.Port}/{ImageSeeder.WarmLazyRepository}:{seeded.Tag}";
        var ordinary = $"127.0.0.1:{proxy.Port}/{ImageSeeder.WarmOrdinaryRepository}:{seeded.Tag}";
        await Tool.RunAsync("ctr-remote", env.Ctr("images", "rpull", "--plain-http", "--snapshotter", SampleEnvironment.LazySnapshotter, lazy), cancellationToken);
        await Tool.RunAsync("ctr", env.Ctr("run", "--rm", "--snapshotter", SampleEnvironment.LazySnapshotter, lazy, "warm-lazy", "/bin/busybox", "cat", "/etc/warm-up"), cancellationToken);
        await Tool.RunAsync("ctr", env.Ctr("images", "pull", "--plain-http", "--snapshotter", "overlayfs", ordinary), cancellationToken);
        await Tool.RunAsync("ctr", env.Ctr("run", "--rm", "--snapshotter", "overlayfs", ordinary, "warm-ordinary", "/bin/busybox", "cat", "/etc/warm-up"), cancellationToken);
        await Tool.RunAsync("ctr", env.Ctr("images", "rm", lazy, ordinary), cancellationToken);
        var lease = (await Tool.RunAsync("ctr", env.Ctr("leases", "create"), cancellationToken)).Trim();
        await Tool.RunAsync("ctr", env.Ctr("leases", "rm", "--sync", lease), cancellationToken);

        var blobs = Path.Combine(env.Directory, "snapshotter", "cache", "blobs");
        var sw = Stopwatch.StartNew();
        while (true)
        {
            var left = new List<string>();
            foreach (var snapshotter in new[] { SampleEnvironment.LazySnapshotter, "overlayfs" })
            {
                var rows = (await Tool.RunAsync("ctr", env.Ctr("snapshots", "--snapshotter", snapshotter, "ls"), cancellationToken))
                    .Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1);
                left.AddRange(rows.Select(r => $"{snapshotter} snapshot {r}"));
            }

            left.AddRange((await Tool.RunAsync("ctr", env.Ctr("content", "ls", "-q"), cancellationToken)).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(c => "content " + c));
            left.AddRange(Directory.Exists(blobs) ? Directory.EnumerateFiles(blobs).Select(f => "cached blob " + f) : []);
            if (left.Count == 0)
            {
                return;
            }

            if (sw.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new InvalidOperationException($"the warm-up image left state behind after garbage collection: {string.Join("; ", left)}");
            }

            await Task.Delay(200, cancellationToken);
        }
    }

    private static string[] RunArgs(SampleEnvironment env, string snapshotter, string reference, string id) =>
        ["-a", env.ContainerdAddress, "-n", SampleEnvironment.Namespace, "run", "--rm", "--snapshotter", snapshotter, reference, id, .. BenchImageSpec.Command];

    private void Check(ContainerRun run, PullCase kind)
    {
        var lines = run.Lines.Select(l => l.Line).ToList();
        if (!lines.SequenceEqual(image.ExpectedOutput))
        {
            throw new InvalidOperationException($"{kind}: the container printed\n{string.Join('\n', lines)}\ninstead of\n{string.Join('\n', image.ExpectedOutput)}");
        }
    }

    private static SamplePhases Phases(IReadOnlyList<RequestRecord> requests, long start, double firstLine)
    {
        double At(long timestamp) => Stopwatch.GetElapsedTime(start, timestamp).TotalSeconds;
        var before = requests.Where(r => At(r.Started) <= firstLine).ToList();
        var ranges = before.Where(r => r.Range is not null).ToList();
        return new SamplePhases(
            before.Count > 0 ? before.Min(r => At(r.Started)) : double.NaN,
            before.Count > 0 ? Math.Min(firstLine, before.Max(r => At(r.Finished))) : double.NaN,
            ranges.Count > 0 ? ranges.Min(r => At(r.Started)) : null,
            ranges.Count,
            ranges.Sum(r => r.ResponseBytes));
    }

    /// <summary>The lazy mode the service chose; fails unless the image was really mounted lazily (no ordinary fallback).</summary>
    private static string CheckLazy(string serveLog)
    {
        string text;
        using (var stream = new FileStream(serveLog, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
        {
            text = new StreamReader(stream).ReadToEnd();
        }

        if (!text.Contains("Mounted lazy image", StringComparison.Ordinal) || text.Contains("unpacked the ordinary way", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"the lazy sample was not served lazily; the service's log:\n{text}");
        }

        const string marker = "lazy images are served in ";
        var at = text.IndexOf(marker, StringComparison.Ordinal);
        return at < 0 ? "?" : text[(at + marker.Length)..].Split(' ')[0];
    }

    /// <summary>The sample's registry requests, and the service's log lines during it, on the sample's clock.</summary>
    private static List<string> Describe(IReadOnlyList<RequestRecord> requests, long start, DateTime startUtc, string? serveLog, double endSeconds, List<(double At, string Text)> kernel)
    {
        var events = new List<(double At, string Text)>(kernel.Where(e => e.At >= 0 && e.At <= endSeconds));
        foreach (var r in requests)
        {
            var at = Stopwatch.GetElapsedTime(start, r.Started).TotalSeconds;
            var took = Stopwatch.GetElapsedTime(r.Started, r.Finished).TotalSeconds;
            var target = r.Target.Length > 90 ? r.Target[..40] + "..." + r.Target[^40..] : r.Target;
            events.Add((at, string.Create(CultureInfo.InvariantCulture, $"registry c{r.Connection} {r.Method} {target}{(r.Range is null ? string.Empty : " " + r.Range)} -> {r.ResponseBytes} B in {took * 1000:F1} ms")));
        }

        if (serveLog is not null && File.Exists(serveLog))
        {
            using var stream = new FileStream(serveLog, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            while (reader.ReadLine() is { } line)
            {
                // The service logs "yyyy-MM-ddTHH:mm:ss.fffZ level: category[id] message".
                if (line.Length > 24 && DateTime.TryParseExact(line[..24], "yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture,
                    DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var at))
                {
                    var seconds = (at - startUtc).TotalSeconds;
                    if (seconds >= -0.001 && seconds <= endSeconds + 0.5)
                    {
                        events.Add((seconds, "serve " + line[25..]));
                    }
                }
            }
        }

        return [.. events.OrderBy(e => e.At).Select(e => string.Create(CultureInfo.InvariantCulture, $"{e.At,8:F3} s  {e.Text}"))];
    }
}
