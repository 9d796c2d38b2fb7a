using System.Diagnostics;

namespace Snapshotter.Lazy.Tests.Infrastructure;

/// <summary>Runs host tools (mount, umount, findmnt, stat): the tests check the component with tools other than its own code.</summary>
internal static class HostTool
{
    /// <summary>Runs <paramref name="file"/>; returns its exit code and output.</summary>
    public static (int ExitCode, string Output, string Error) TryRun(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr);
    }

    /// <summary>Runs <paramref name="file"/> and returns its output; fails the test when it exits non-zero.</summary>
    public static string Run(string file, params string[] args)
    {
        var (code, output, error) = TryRun(file, args);
        if (code != 0)
        {
            Assert.Fail($"{file} {string.Join(' ', args)} exited {code}: {error}");
        }

        return output;
    }
}
