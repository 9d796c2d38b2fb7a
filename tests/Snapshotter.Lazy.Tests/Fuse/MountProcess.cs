using System.Diagnostics;
using System.Text;

namespace Snapshotter.Lazy.Tests.Fuse;

/// <summary>
/// The real <c>snapshotter mount REF DIR --lazy-mode fuse</c> in a child process (the executable the project builds),
/// started and waited for until it prints "mounted DIR".
/// </summary>
internal sealed class MountProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private MountProcess(Process process)
    {
        _process = process;
    }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Everything the process wrote (its logs go to standard error).</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public static async Task<MountProcess> StartAsync(string reference, string mountPoint, string cacheDirectory)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[]
        {
            Path.Combine(AppContext.BaseDirectory, "snapshotter.dll"), "mount", reference, mountPoint,
            "--lazy-mode", "fuse", "--cache-dir", cacheDirectory, "--hosts-dir", "/nonexistent", "--fetch-timeout", "5", "--log-level", "debug",
        })
        {
            psi.ArgumentList.Add(arg);
        }

        var mounted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start snapshotter");
        var mount = new MountProcess(process);
        process.OutputDataReceived += (_, e) =>
        {
            mount.Append(e.Data);
            if (e.Data?.StartsWith("mounted ", StringComparison.Ordinal) == true)
            {
                mounted.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) => mount.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var exited = process.WaitForExitAsync();
        if (await Task.WhenAny(mounted.Task, exited, Task.Delay(TimeSpan.FromSeconds(60))) != mounted.Task)
        {
            var log = mount.Log;
            await mount.DisposeAsync();
            Assert.Fail($"snapshotter mount did not print \"mounted\" (exited: {process.HasExited}): {log}");
        }

        return mount;
    }

    /// <summary>SIGKILL: the process dies without unmounting anything (a crash).</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM (unmount and exit) and the exit code.</summary>
    public async Task<int> StopAsync()
    {
        Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_log)
            {
                _log.AppendLine(line);
            }
        }
    }
}
