using System.Diagnostics;
using Tmds.Linux;

namespace Snapshotter.KernelTests.Containerd;

/// <summary>A long-running child (containerd, snapshotter serve, docker-registry) whose output lines are kept for assertions and diagnostics.</summary>
internal sealed class DaemonProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines;

    private DaemonProcess(string name, Process process, List<string> lines)
    {
        Name = name;
        _process = process;
        _lines = lines;
    }

    public string Name { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public int LineCount
    {
        get { lock (_lines) { return _lines.Count; } }
    }

    /// <summary>Starts <paramref name="file"/>; <paramref name="earlierLines"/> (an earlier incarnation's output) keep their line numbers.</summary>
    public static DaemonProcess Start(string name, string file, IEnumerable<string> args, IEnumerable<string>? earlierLines = null)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        // The daemon's settings come from its arguments only.
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("SNAPSHOTTER_", StringComparison.Ordinal)).ToList())
        {
            psi.Environment.Remove(key);
        }

        var lines = new List<string>(earlierLines ?? []);
        var process = new Process { StartInfo = psi };
        process.OutputDataReceived += (_, e) => Append(lines, e.Data);
        process.ErrorDataReceived += (_, e) => Append(lines, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        Append(lines, $"[fixture] started {name} pid {process.Id}: {file} {string.Join(' ', psi.ArgumentList)}");
        return new DaemonProcess(name, process, lines);
    }

    /// <summary>A copy of the lines from <paramref name="fromLine"/> on.</summary>
    public string[] Lines(int fromLine = 0)
    {
        lock (_lines)
        {
            return _lines.Skip(fromLine).ToArray();
        }
    }

    public string Logs(int fromLine = 0) => string.Join('\n', Lines(fromLine));

    /// <summary>SIGTERM, then SIGKILL after <paramref name="grace"/>; returns the exit code (-1 when it had to be killed).</summary>
    public async Task<int> StopAsync(TimeSpan grace)
    {
        if (_process.HasExited)
        {
            return _process.ExitCode;
        }

        _ = LibC.kill(_process.Id, LibC.SIGTERM);
        using var cts = new CancellationTokenSource(grace);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return _process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            Append(_lines, $"[fixture] {Name} ignored SIGTERM for {grace}; SIGKILL");
            await KillAsync();
            return -1;
        }
    }

    /// <summary>kill -9, like a crash or an OOM kill, and wait until it is reaped.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _ = LibC.kill(_process.Id, LibC.SIGKILL);
        }

        await _process.WaitForExitAsync();
        Append(_lines, $"[fixture] {Name} killed");
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _ = LibC.kill(_process.Id, LibC.SIGKILL);
            _process.WaitForExit(10_000);
        }

        _process.Dispose();
    }

    private static void Append(List<string> lines, string? line)
    {
        if (line is not null)
        {
            lock (lines)
            {
                lines.Add(line);
            }
        }
    }
}
