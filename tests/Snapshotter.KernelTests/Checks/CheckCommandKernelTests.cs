using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using Snapshotter.Cachefiles.Daemon;
using Snapshotter.KernelTests.Daemon;
using Snapshotter.Lazy;
using Snapshotter.Registry;
using Xunit.Abstractions;

namespace Snapshotter.KernelTests.Checks;

/// <summary>
/// <c>snapshotter check</c> (the real executable) on the on-demand kernel inside run-in-vm: Linux 6.1 with cachefiles
/// on-demand binds on the ext4 scratch disk and the mode is fscache, while EROFS cannot be mounted from files there (fuse
/// unavailable, with the kernel's reason); with the cache on tmpfs the bind fails and the mode falls back; a device held
/// by another daemon is reported busy. Booted on 6.12 (RUN_IN_VM_KERNEL=../shared/kernel/bzImage-6.12) the same tests expect
/// EROFS from files to be supported (fuse available, the tmpfs fallback is fuse).
/// </summary>
public sealed partial class CheckCommandKernelTests(ITestOutputHelper output)
{
    private static readonly Version Kernel = ParseRelease(File.ReadAllText("/proc/sys/kernel/osrelease"));

    private static bool FileBackedKernel => Kernel >= new Version(6, 12);

    private static string NewDir(string parent, string name) =>
        Directory.CreateDirectory(Path.Combine(parent, $"{name}-{Guid.NewGuid().ToString("N")[..8]}")).FullName;

    [Fact]
    public async Task Check_OnDemandKernelCacheOnExt4_FscacheOkAndChosen()
    {
        KernelEnvironment.RequireOnDemandKernel();
        var dir = NewDir(KernelEnvironment.Scratch, "check");

        var check = await CheckAsync(dir, Path.Combine(dir, "cache"));
        var json = await CheckAsync(dir, Path.Combine(dir, "cache"), "--json");

        Assert.True(check.Exit == 0, check.ToString());
        Assert.Equal("OK", check.Status("cachefiles"));
        Assert.Contains("bind ondemand works", check.Detail("cachefiles"), StringComparison.Ordinal);
        Assert.Equal("OK", check.Status("cache_dir.filesystem"));
        Assert.Contains("is on ext4", check.Detail("cache_dir.filesystem"), StringComparison.Ordinal);
        Assert.Equal("OK", check.Status("cache_dir.user_xattr"));
        Assert.Equal("OK", check.Status("cache_dir.o_tmpfile"));
        Assert.Equal("OK", check.Status("overlayfs"));
        Assert.Equal("OK", check.Status("erofs"));
        Assert.Equal("OK", check.Status("mode.fscache"));
        Assert.Equal("OK", check.Status("lazy_mode"));
        Assert.Contains("serve will use fscache", check.Detail("lazy_mode"), StringComparison.Ordinal);
        if (FileBackedKernel)
        {
            Assert.Equal("OK", check.Status("erofs.file_backed"));
            Assert.Equal("OK", check.Status("mode.fuse"));
        }
        else
        {
            // 6.1: EROFS needs a block device (ENOTBLK), so the fuse mode is out, named with the kernel's answer.
            Assert.Equal("WARN", check.Status("erofs.file_backed"));
            Assert.Contains("Block device required", check.Detail("erofs.file_backed"), StringComparison.Ordinal);
            Assert.Equal("WARN", check.Status("mode.fuse"));
            Assert.Contains("Block device required", check.Detail("mode.fuse"), StringComparison.Ordinal);
            Assert.Contains("Linux 6.12+", check.Detail("mode.fuse"), StringComparison.Ordinal);
        }

        using var document = JsonDocument.Parse(json.Stdout);
        Assert.Equal("fscache", document.RootElement.GetProperty("lazy_mode").GetString());
        Assert.True(document.RootElement.GetProperty("can_serve").GetBoolean());

        // The probe released the device: the service (the same decision) binds it and serves in fscache mode.
        using var client = new RegistryClient();
        await using var lazy = await LazyFileSystem.CreateAsync(new LazyOptions { CacheDirectory = Path.Combine(dir, "cache") }, client, NullLoggerFactory.Instance);
        Assert.Equal("fscache", lazy.Mode);
    }

    [Fact]
    public async Task Check_CacheDirOnTmpfs_BindFailsWithTheReasonAndModeFallsBack()
    {
        KernelEnvironment.RequireOnDemandKernel();
        var root = NewDir(KernelEnvironment.Scratch, "check-root");
        // /tmp is the guest's tmpfs.
        var cache = NewDir("/tmp", "check-cache");

        var check = await CheckAsync(root, cache);

        Assert.True(check.Exit == 0, check.ToString());
        Assert.Equal("WARN", check.Status("cachefiles"));
        Assert.Contains("cachefiles refused 'bind ondemand'", check.Detail("cachefiles"), StringComparison.Ordinal);
        Assert.Contains("not tmpfs", check.Detail("cachefiles"), StringComparison.Ordinal);
        Assert.Equal("WARN", check.Status("cache_dir.filesystem"));
        Assert.Contains("is on tmpfs", check.Detail("cache_dir.filesystem"), StringComparison.Ordinal);
        Assert.Equal("WARN", check.Status("mode.fscache"));
        Assert.Equal("OK", check.Status("lazy_mode"));
        if (FileBackedKernel)
        {
            Assert.Contains("serve will use fuse", check.Detail("lazy_mode"), StringComparison.Ordinal);
        }
        else
        {
            Assert.Contains("serve will use blob-fetch", check.Detail("lazy_mode"), StringComparison.Ordinal);
            Assert.Contains("through loop devices", check.Detail("lazy_mode"), StringComparison.Ordinal);
            Assert.Equal("OK", check.Status("loop"));
        }

        Assert.Contains("fscache: cachefiles refused 'bind ondemand'", check.Detail("lazy_mode"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_DeviceHeldByAnotherDaemon_ReportsEbusyAndFallsBack()
    {
        KernelEnvironment.RequireOnDemandKernel();
        var dir = NewDir(KernelEnvironment.Scratch, "check-busy");
        await using (OnDemandDaemon.Start(new OnDemandDaemonOptions { CacheDirectory = NewDir(dir, "held") }, new TestObjectResolver(), new TestOutputLogger(output)))
        {
            var check = await CheckAsync(dir, Path.Combine(dir, "cache"));

            Assert.True(check.Exit == 0, check.ToString());
            Assert.Equal("WARN", check.Status("cachefiles"));
            Assert.Contains("EBUSY", check.Detail("cachefiles"), StringComparison.Ordinal);
            Assert.Contains("cachefilesd", check.Hint("cachefiles"), StringComparison.Ordinal);
            Assert.DoesNotContain("serve will use fscache", check.Detail("lazy_mode"), StringComparison.Ordinal);
        }
    }

    private static Version ParseRelease(string release)
    {
        var parts = release.Trim().Split('.', '-');
        return new Version(int.Parse(parts[0]), int.Parse(parts[1]));
    }

    private async Task<CheckRun> CheckAsync(string root, string cache, params string[] extra)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        string[] args =
        [
            Path.Combine(AppContext.BaseDirectory, "snapshotter.dll"), "check", "--root", Path.Combine(root, "root"),
            "--address", Path.Combine("/run", Path.GetFileName(root), "s.sock"), "--cache-dir", cache,
            "--containerd-config", "/nonexistent/config.toml", .. extra,
        ];
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        foreach (var variable in new[] { "SNAPSHOTTER_CONFIG", "SNAPSHOTTER_ROOT", "SNAPSHOTTER_ADDRESS", "SNAPSHOTTER_LOG_LEVEL", "SNAPSHOTTER_LAZY_MODE" })
        {
            psi.Environment[variable] = string.Empty;
        }

        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
        var run = new CheckRun(process.ExitCode, await stdout, await stderr);
        output.WriteLine(run.ToString());
        return run;
    }

    private sealed partial record CheckRun(int Exit, string Stdout, string Stderr)
    {
        public string Status(string name) => Line(name).Groups[1].Value;

        public string Detail(string name) => Line(name).Groups[3].Value;

        public string Hint(string name)
        {
            var lines = Stdout.Split('\n');
            var at = Array.FindIndex(lines, l => CheckLine().Match(l) is { Success: true } m && m.Groups[2].Value == name);
            return at >= 0 && at + 1 < lines.Length && HintLine().Match(lines[at + 1]) is { Success: true } h ? h.Groups[1].Value : string.Empty;
        }

        public override string ToString() => $"exit {Exit}\n{Stdout}\n{Stderr}";

        private Match Line(string name) =>
            Stdout.Split('\n').Select(l => CheckLine().Match(l)).FirstOrDefault(m => m.Success && m.Groups[2].Value == name)
            ?? throw new Xunit.Sdk.XunitException($"no check line '{name}' in:\n{this}");

        [GeneratedRegex(@"^(OK|WARN|FAIL) +(\S+) +(.*)$")]
        private static partial Regex CheckLine();

        [GeneratedRegex(@"^ +-> (.*)$")]
        private static partial Regex HintLine();
    }
}
