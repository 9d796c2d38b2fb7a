using System.Diagnostics;
using Snapshotter.IntegrationTests.Interop;
using Tmds.Linux;

namespace Snapshotter.IntegrationTests.Fixtures;

/// <summary>
/// A long-running child process (containerd, snapshotter serve) whose stdout/stderr lines are
/// kept in memory so a failing test can print them.
/// </summary>
internal sealed class DaemonProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];

    private DaemonProcess(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    public string Name { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public int LineCount
    {
        get { lock (_lines) { return _lines.Count; } }
    }

    /// <summary>Starts the daemon; <paramref name="earlierLines"/> (a previous incarnation's output) keep their line numbers.</summary>
    public static DaemonProcess Start(string name, string fileName, IEnumerable<string> arguments, IEnumerable<string>? earlierLines = null)
    {
        var psi = new ProcessStartInfo(Tools.Require(fileName))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string a in arguments)
        {
            psi.ArgumentList.Add(a);
        }

        // Hermetic: the daemon's settings come from its arguments only, not from the caller's environment.
        foreach (string key in psi.Environment.Keys.Where(k => k.StartsWith("SNAPSHOTTER_", StringComparison.Ordinal)).ToList())
        {
            psi.Environment.Remove(key);
        }

        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var daemon = new DaemonProcess(name, process);
        if (earlierLines is not null)
        {
            daemon._lines.AddRange(earlierLines);
        }

        process.OutputDataReceived += (_, e) => daemon.Append(e.Data);
        process.ErrorDataReceived += (_, e) => daemon.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        daemon.Append($"[fixture] started pid {process.Id}: {fileName} {string.Join(' ', arguments)}");
        return daemon;
    }

    /// <summary>The log lines from <paramref name="fromLine"/> on (all by default).</summary>
    public string Logs(int fromLine = 0)
    {
        lock (_lines)
        {
            return string.Join('\n', _lines.Skip(fromLine));
        }
    }

    /// <summary>A copy of all captured lines.</summary>
    public string[] Lines()
    {
        lock (_lines)
        {
            return [.. _lines];
        }
    }

    /// <summary>Waits until <paramref name="path"/> exists (a daemon's socket) or the daemon dies.</summary>
    public async Task WaitForFileAsync(string path, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var deadline = Stopwatch.StartNew();
        while (!File.Exists(path))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with code {_process.ExitCode} before creating {path}; its output:\n{Logs()}");
            }

            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"{Name} did not create {path} within {timeout}; its output:\n{Logs()}");
            }

            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>SIGTERM, then SIGKILL after <paramref name="grace"/>. Returns the exit code (or -1 when it had to be killed).</summary>
    public async Task<int> StopAsync(TimeSpan grace)
    {
        if (_process.HasExited)
        {
            return _process.ExitCode;
        }

        TestLibc.Signal(_process.Id, LibC.SIGTERM);
        using var cts = new CancellationTokenSource(grace);
        try
        {
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            return _process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            Append($"[fixture] {Name} ignored SIGTERM for {grace}; sending SIGKILL");
            await KillAsync().ConfigureAwait(false);
            return -1;
        }
    }

    /// <summary>SIGKILL (kill -9) and wait for the process to be reaped.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            TestLibc.Signal(_process.Id, LibC.SIGKILL);
        }

        await _process.WaitForExitAsync().ConfigureAwait(false);
        Append($"[fixture] {Name} killed");
    }

    public int ExitCode => _process.ExitCode;

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            TestLibc.Signal(_process.Id, LibC.SIGKILL);
            _process.WaitForExit(10_000);
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_lines)
        {
            _lines.Add(line);
        }
    }
}
