using System.Diagnostics;

namespace Snapshotter.Fuse.Tests.Infrastructure;

/// <summary>Checks and helpers for tests on the host kernel's FUSE and EROFS.</summary>
internal static class FuseEnvironment
{
    /// <summary>Fails (never skips) when the host cannot run FUSE mount tests.</summary>
    public static void RequireFuse()
    {
        if (!File.Exists("/dev/fuse"))
        {
            Assert.Fail("/dev/fuse is missing: load the fuse module (modprobe fuse); FUSE server tests need a real kernel");
        }

        if (Environment.UserName != "root")
        {
            Assert.Fail("FUSE server tests mount filesystems and must run as root");
        }
    }

    public static string Run(string file, params string[] args) => RunWithExit(file, args, out _, check: true);

    public static string RunWithExit(string file, string[] args, out int exitCode, bool check = false)
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
        exitCode = process.ExitCode;
        if (check && process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {process.ExitCode}: {stderr}");
        }

        return stdout.Result + (check ? string.Empty : stderr);
    }

    /// <summary>Whether /proc/self/mountinfo lists a mount on <paramref name="path"/>.</summary>
    public static bool IsMounted(string path) =>
        File.ReadLines("/proc/self/mountinfo").Any(l => l.Split(' ') is { Length: > 4 } f && f[4] == path);

    /// <summary>Drops the page cache, dentries and inodes (cold reads).</summary>
    public static void DropCaches()
    {
        Run("sync");
        File.WriteAllText("/proc/sys/vm/drop_caches", "3");
    }
}
