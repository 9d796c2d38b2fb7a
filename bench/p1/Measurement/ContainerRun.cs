using System.Diagnostics;

namespace Snapshotter.P1.Benchmarks.Measurement;

/// <summary>
/// Runs a command whose stdout is read line by line as it arrives, timing each line against a start timestamp;
/// <see cref="OnFirstLine"/> runs the moment the first line is read (to snapshot the proxy's counters).
/// </summary>
internal sealed class ContainerRun
{
    public Action? OnFirstLine { get; init; }

    public List<(string Line, double Seconds)> Lines { get; } = [];

    public double ExitSeconds { get; private set; }

    public async Task RunAsync(string fileName, IEnumerable<string> args, long start, CancellationToken cancellationToken = default)
    {
        var psi = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {fileName}");
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        while (await process.StandardOutput.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            if (Lines.Count == 0)
            {
                OnFirstLine?.Invoke();
            }

            Lines.Add((line, seconds));
        }

        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        ExitSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{fileName} {string.Join(' ', psi.ArgumentList)} exited {process.ExitCode}: {await stderr.ConfigureAwait(false)}");
        }
    }
}
