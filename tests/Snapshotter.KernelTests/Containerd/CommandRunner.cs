using System.Diagnostics;

namespace Snapshotter.KernelTests.Containerd;

/// <summary>
/// Runs short-lived tools (ctr, ctr-remote) with a deadline: a command that overruns it is killed and the test fails
/// with its output so far, never hangs (the emulated guest is slow, so deadlines are generous).
/// </summary>
internal static class CommandRunner
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(5);

    public static async Task<CommandResult> RunAsync(string file, IReadOnlyList<string> args, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        var text = $"{file} {string.Join(' ', args)}";
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {text}");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            throw new TimeoutException($"`{text}` did not finish within {timeout ?? DefaultTimeout}\n--- stdout ---\n{await stdout}\n--- stderr ---\n{await stderr}");
        }

        return new CommandResult(text, process.ExitCode, await stdout, await stderr);
    }
}
