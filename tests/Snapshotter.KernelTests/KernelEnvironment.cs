using System.Diagnostics;

namespace Snapshotter.KernelTests;

/// <summary>Checks and helpers for tests that need the on-demand kernel (inside run-in-vm).</summary>
internal static class KernelEnvironment
{
    /// <summary>The ext4 scratch disk run-in-vm provides (cachefiles refuses tmpfs).</summary>
    public const string Scratch = "/run/scratch";

    /// <summary>Fails (never skips) with a message saying how to run these tests when the kernel cannot.</summary>
    public static void RequireOnDemandKernel()
    {
        if (!File.Exists("/dev/cachefiles"))
        {
            Assert.Fail("/dev/cachefiles is missing: kernel tests must run inside ../shared/vm/run-in-vm (scripts/test.sh does this)");
        }

        if (!Directory.Exists(Scratch))
        {
            Assert.Fail($"{Scratch} (ext4 scratch disk of run-in-vm) is missing");
        }
    }

    public static string Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {process.ExitCode}: {stderr}");
        }

        return stdout.Result;
    }
}
