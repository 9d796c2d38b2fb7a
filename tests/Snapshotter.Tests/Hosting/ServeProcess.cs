using System.Diagnostics;
using System.Text;

namespace Snapshotter.Tests.Hosting;

/// <summary>The real <c>snapshotter serve</c> executable in a child process, on a temp root and socket.</summary>
internal sealed class ServeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServeProcess(Process process, string root, string address)
    {
        _process = process;
        Root = root;
        Address = address;
    }

    public string Root { get; }

    public string Address { get; }

    public int Pid => _process.Id;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static ProcessStartInfo StartInfo(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "snapshotter.dll"));
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        // Keep the machine's own config and environment out of the test.
        psi.Environment["SNAPSHOTTER_CONFIG"] = string.Empty;
        psi.Environment["SNAPSHOTTER_ROOT"] = string.Empty;
        psi.Environment["SNAPSHOTTER_ADDRESS"] = string.Empty;
        psi.Environment["SNAPSHOTTER_LOG_LEVEL"] = string.Empty;
        return psi;
    }

    /// <summary>Runs the executable to completion and returns exit code, stdout and stderr.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunToEndAsync(params string[] args)
    {
        using var process = Process.Start(StartInfo(args))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(cts.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs the executable to completion and returns exit code, raw stdout bytes and stderr.</summary>
    public static async Task<(int ExitCode, byte[] Stdout, string Stderr)> RunToEndBinaryAsync(params string[] args)
    {
        using var process = Process.Start(StartInfo(args))!;
        using var stdout = new MemoryStream();
        var copy = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(cts.Token);
        await copy;
        return (process.ExitCode, stdout.ToArray(), await stderr);
    }

    public static async Task<ServeProcess> StartAsync(string root, string address, params string[] extraArgs)
    {
        // No metrics endpoint unless a test asks for one: parallel daemons would fight over the default port.
        string[] metrics = extraArgs.Contains("--metrics-address") ? [] : ["--metrics-address", ""];
        var psi = StartInfo(["serve", "--root", root, "--address", address, "--log-level", "debug", .. metrics, .. extraArgs]);
        var process = Process.Start(psi)!;
        var serve = new ServeProcess(process, root, address);
        process.OutputDataReceived += (_, e) => serve.Append(e.Data);
        process.ErrorDataReceived += (_, e) => serve.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await serve.WaitForSocketAsync();
        return serve;
    }

    public async Task WaitForSocketAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"snapshotter exited with {_process.ExitCode} before listening:\n{Output}");
            }

            // The socket appears already listening with its final mode; the host logs "listening on" once started.
            if (File.Exists(Address) && Output.Contains("listening on", StringComparison.Ordinal))
            {
                return;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"snapshotter did not listen on {Address} within 60 s:\n{Output}");
    }

    /// <summary>Sends a signal (SIGTERM = 15, SIGKILL = 9) and waits for the exit code.</summary>
    public async Task<int> SignalAndWaitAsync(int signal)
    {
        using (var kill = Process.Start("kill", [$"-{signal}", _process.Id.ToString()]))
        {
            await kill.WaitForExitAsync();
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
