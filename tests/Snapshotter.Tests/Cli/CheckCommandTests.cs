using System.Diagnostics;
using System.Net.Sockets;
using System.Text.Json;
using Snapshotter.Tests.Hosting;

namespace Snapshotter.Tests.Cli;

/// <summary>
/// <c>snapshotter check</c> on this host, running the real executable: the verdicts this Linux 6.18 machine must get
/// (no /dev/cachefiles, EROFS from files, FUSE, overlayfs: mode fuse), the containerd config findings, a tmpfs cache
/// directory, missing prerequisites (a root that is a file, a socket already served, no CAP_SYS_ADMIN, not root), and
/// that serve picks the mode check reports. The on-demand verdicts are proven in Snapshotter.KernelTests (the VM).
/// </summary>
public sealed class CheckCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("check-cli-").FullName;

    public CheckCommandTests()
    {
        // serve refuses too long socket paths; the temp dir is short enough.
        Root = Path.Combine(_dir, "root");
        Address = Path.Combine(_dir, "run", "s.sock");
    }

    private string Root { get; }

    private string Address { get; }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string ContainerdConfig(string text)
    {
        var path = Path.Combine(_dir, $"containerd-{Guid.NewGuid():N}.toml");
        File.WriteAllText(path, text.Replace("@ADDRESS@", Address, StringComparison.Ordinal));
        return path;
    }

    private string V2Config(bool annotationsDisabled = false, bool proxy = true) => ContainerdConfig($$"""
        version = 2
        {{(proxy ? "[proxy_plugins.nydus]\n  type = \"snapshot\"\n  address = \"@ADDRESS@\"" : "[proxy_plugins.other]\n  type = \"snapshot\"\n  address = \"/run/other.sock\"")}}
        [plugins."io.containerd.grpc.v1.cri".containerd]
          snapshotter = "nydus"
          disable_snapshot_annotations = {{(annotationsDisabled ? "true" : "false")}}
        """);

    private async Task<CheckOutput> CheckAsync(params string[] extra)
    {
        string[] containerd = extra.Contains("--containerd-config") ? [] : ["--containerd-config", V2Config()];
        var (exit, stdout, stderr) = await ServeProcess.RunToEndAsync(["check", "--root", Root, "--address", Address, .. containerd, .. extra]);
        return CheckOutput.Parse(exit, stdout, stderr);
    }

    [Fact]
    public async Task Check_ThisHost_ExpectedVerdictsAndModeFuse()
    {
        // What this machine is (see the project notes): Linux 6.18 without cachefiles, with EROFS from files and FUSE.
        Assert.False(File.Exists("/dev/cachefiles"), "this test expects the host kernel without /dev/cachefiles");
        Assert.True(File.Exists("/dev/fuse"), "this test expects /dev/fuse on the host");

        var check = await CheckAsync();

        Assert.True(check.ExitCode == 0, check.ToString());
        Assert.Equal("OK", check["kernel"].Status);
        Assert.Contains(File.ReadAllText("/proc/sys/kernel/osrelease").Trim(), check["kernel"].Detail, StringComparison.Ordinal);
        Assert.Equal("OK", check["privileges"].Status);
        Assert.Equal("OK", check["root_dir"].Status);
        Assert.Equal("OK", check["socket"].Status);
        Assert.Equal("OK", check["overlayfs"].Status);
        Assert.Equal("OK", check["erofs"].Status);
        Assert.Equal("OK", check["erofs.file_backed"].Status);
        Assert.Equal("OK", check["fuse"].Status);
        Assert.Equal("WARN", check["cachefiles"].Status);
        Assert.Contains("/dev/cachefiles does not exist", check["cachefiles"].Detail, StringComparison.Ordinal);
        Assert.Contains("CONFIG_CACHEFILES_ONDEMAND", check["cachefiles"].Hint, StringComparison.Ordinal);
        Assert.Equal("WARN", check["mode.fscache"].Status);
        Assert.Equal("OK", check["mode.fuse"].Status);
        Assert.Equal("OK", check["mode.blob-fetch"].Status);
        Assert.Equal("OK", check["lazy_mode"].Status);
        Assert.Contains("serve will use fuse", check["lazy_mode"].Detail, StringComparison.Ordinal);
        Assert.Contains("fscache: /dev/cachefiles does not exist", check["lazy_mode"].Detail, StringComparison.Ordinal);
        Assert.Contains("lazy mode: fuse", check.Stdout, StringComparison.Ordinal);
        Assert.Contains("serve can run on this host", check.Stdout, StringComparison.Ordinal);
        Assert.Equal(string.Empty, check.Stderr);
    }

    [Fact]
    public async Task Check_Json_ParsesAndMatchesTheText()
    {
        var config = V2Config();
        var text = await CheckAsync("--containerd-config", config);
        var json = await CheckAsync("--containerd-config", config, "--json");

        Assert.Equal(text.ExitCode, json.ExitCode);
        using var document = json.Json();
        var root = document.RootElement;
        Assert.Equal(1, root.GetProperty("schema").GetInt32());
        Assert.Equal("fuse", root.GetProperty("lazy_mode").GetString());
        Assert.True(root.GetProperty("can_serve").GetBoolean());
        Assert.Contains("FUSE", root.GetProperty("reason").GetString(), StringComparison.Ordinal);
        var checks = root.GetProperty("checks").EnumerateArray().ToList();
        Assert.Equal(text.Lines.Count, checks.Count);
        foreach (var check in checks)
        {
            var name = check.GetProperty("name").GetString()!;
            var (status, detail, hint) = text[name];
            Assert.Equal(status.ToLowerInvariant(), check.GetProperty("status").GetString());
            // The free space may change between the two runs; everything else is the same finding.
            if (name != "cache_dir.free_space")
            {
                Assert.Equal(detail, check.GetProperty("detail").GetString());
            }

            Assert.Equal(hint, check.GetProperty("hint").ValueKind == JsonValueKind.Null ? null : check.GetProperty("hint").GetString());
        }
    }

    [Fact]
    public async Task Check_ContainerdConfigWithoutOurProxyPlugin_NamesTheMissingSection()
    {
        var check = await CheckAsync("--containerd-config", V2Config(proxy: false));

        Assert.Equal(0, check.ExitCode);
        var (status, detail, hint) = check["containerd.proxy_plugin"];
        Assert.Equal("WARN", status);
        Assert.Contains("[proxy_plugins.other] at \"/run/other.sock\"", detail, StringComparison.Ordinal);
        Assert.Contains($"address = \"{Address}\"", detail, StringComparison.Ordinal);
        Assert.Contains("[proxy_plugins.", hint, StringComparison.Ordinal);
        Assert.Contains("type = \"snapshot\"", hint, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_CompleteV2Config_ContainerdChecksOk()
    {
        var check = await CheckAsync();

        Assert.Equal("OK", check["containerd.config"].Status);
        Assert.Contains("config version 2", check["containerd.config"].Detail, StringComparison.Ordinal);
        Assert.Equal("OK", check["containerd.proxy_plugin"].Status);
        Assert.Contains("[proxy_plugins.nydus]", check["containerd.proxy_plugin"].Detail, StringComparison.Ordinal);
        Assert.Equal("OK", check["containerd.cri_annotations"].Status);
        Assert.Equal("OK", check["containerd.cri_snapshotter"].Status);
    }

    [Fact]
    public async Task Check_DisableSnapshotAnnotationsTrue_IsNamed()
    {
        var check = await CheckAsync("--containerd-config", V2Config(annotationsDisabled: true));

        Assert.Equal(0, check.ExitCode);
        var (status, detail, hint) = check["containerd.cri_annotations"];
        Assert.Equal("WARN", status);
        Assert.Contains("[plugins.\"io.containerd.grpc.v1.cri\".containerd] disable_snapshot_annotations = true", detail, StringComparison.Ordinal);
        Assert.Contains("disable_snapshot_annotations = false", hint, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_V3ConfigWithoutTransferSettings_NamesTheV3TableAndTheTransferService()
    {
        var config = ContainerdConfig("""
            version = 3
            [proxy_plugins.lazy]
              type = "snapshot"
              address = "unix://@ADDRESS@"
            [plugins.'io.containerd.cri.v1.images']
              snapshotter = "lazy"
            """);

        var check = await CheckAsync("--containerd-config", config);

        Assert.Equal("OK", check["containerd.proxy_plugin"].Status);
        Assert.Equal("WARN", check["containerd.cri_annotations"].Status);
        Assert.Contains("[plugins.'io.containerd.cri.v1.images'] disable_snapshot_annotations is not set", check["containerd.cri_annotations"].Detail, StringComparison.Ordinal);
        Assert.Equal("OK", check["containerd.cri_snapshotter"].Status);
        var (status, detail, _) = check["containerd.transfer"];
        Assert.Equal("WARN", status);
        Assert.Contains("[proxy_plugins.lazy.exports] enable_remote_snapshot_annotations = \"true\" is missing", detail, StringComparison.Ordinal);
        Assert.Contains("[[plugins.'io.containerd.transfer.v1.local'.unpack_config]] with snapshotter = \"lazy\"", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_CompleteV3ConfigSplitOverImports_ContainerdChecksOk()
    {
        var imports = Directory.CreateDirectory(Path.Combine(_dir, "conf.d")).FullName;
        File.WriteAllText(Path.Combine(imports, "10-transfer.toml"), """
            [[plugins.'io.containerd.transfer.v1.local'.unpack_config]]
              platform = "linux/amd64"
              snapshotter = "nydus"
            """);
        var config = ContainerdConfig("""
            version = 3
            imports = ["conf.d/*.toml"]
            [proxy_plugins.nydus]
              type = "snapshot"
              address = "@ADDRESS@"
              [proxy_plugins.nydus.exports]
                enable_remote_snapshot_annotations = "true"
            [plugins.'io.containerd.cri.v1.images']
              snapshotter = "nydus"
              disable_snapshot_annotations = false
            """);

        var check = await CheckAsync("--containerd-config", config);

        Assert.Contains("10-transfer.toml", check["containerd.config"].Detail, StringComparison.Ordinal);
        foreach (var name in new[] { "containerd.proxy_plugin", "containerd.cri_annotations", "containerd.cri_snapshotter", "containerd.transfer" })
        {
            Assert.True(check[name].Status == "OK", $"{name}: {check[name].Detail}");
        }
    }

    [Fact]
    public async Task Check_MissingOrBrokenContainerdConfig_WarnsNamingTheFile()
    {
        var missing = await CheckAsync("--containerd-config", Path.Combine(_dir, "absent.toml"));
        var broken = await CheckAsync("--containerd-config", ContainerdConfig("version = 2\n[proxy_plugins\n"));

        Assert.Equal(0, missing.ExitCode);
        Assert.Equal("WARN", missing["containerd.config"].Status);
        Assert.Contains("absent.toml does not exist", missing["containerd.config"].Detail, StringComparison.Ordinal);
        Assert.Equal(0, broken.ExitCode);
        Assert.Equal("WARN", broken["containerd.config"].Status);
        Assert.Contains("cannot be read", broken["containerd.config"].Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_CacheDirOnTmpfs_NamesTheCachefilesRequirement()
    {
        var tmpfs = Directory.CreateDirectory(Path.Combine(_dir, "tmpfs")).FullName;
        Run("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", tmpfs);
        try
        {
            var check = await CheckAsync("--cache-dir", Path.Combine(tmpfs, "cache"));

            Assert.Equal(0, check.ExitCode);
            var (status, detail, hint) = check["cache_dir.filesystem"];
            Assert.Equal("WARN", status);
            Assert.Contains("is on tmpfs", detail, StringComparison.Ordinal);
            Assert.Contains("cachefiles on-demand (the fscache mode) needs the cache directory on ext4, xfs or btrfs", detail, StringComparison.Ordinal);
            Assert.Contains("--cache-dir", hint, StringComparison.Ordinal);
            // Less than the 1 GiB the check asks for.
            Assert.Equal("WARN", check["cache_dir.free_space"].Status);
            Assert.Contains("64.0 MiB", check["cache_dir.free_space"].Detail, StringComparison.Ordinal);
        }
        finally
        {
            Run("umount", tmpfs);
        }
    }

    [Fact]
    public async Task Check_RootIsAFile_Exit1NamingIt()
    {
        File.WriteAllText(Path.Combine(_dir, "file"), "not a directory");

        var (exit, stdout, stderr) = await ServeProcess.RunToEndAsync("check", "--root", Path.Combine(_dir, "file"), "--address", Address);
        var check = CheckOutput.Parse(exit, stdout, stderr);

        Assert.Equal(1, check.ExitCode);
        Assert.Equal("FAIL", check["root_dir"].Status);
        Assert.Contains("is a file, not a directory", check["root_dir"].Detail, StringComparison.Ordinal);
        Assert.Contains("serve cannot run: root_dir:", check.Stdout, StringComparison.Ordinal);
        Assert.Contains("serve cannot run: root_dir:", check.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_AddressAlreadyServed_Exit1NamingIt()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Address)!);
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(Address));
        listener.Listen();

        var check = await CheckAsync("--json");

        Assert.Equal(1, check.ExitCode);
        using var document = check.Json();
        Assert.False(document.RootElement.GetProperty("can_serve").GetBoolean());
        var socket = document.RootElement.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "socket");
        Assert.Equal("fail", socket.GetProperty("status").GetString());
        Assert.Contains($"another process is already serving {Address}", socket.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("--address", socket.GetProperty("hint").GetString(), StringComparison.Ordinal);
        Assert.Contains("socket: another process", check.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_WithoutCapSysAdmin_Exit1NamingTheCapability()
    {
        // Root, but with CAP_SYS_ADMIN dropped from the bounding and inheritable sets (setpriv, util-linux).
        var check = await RunAsAsync(["--bounding-set", "-sys_admin", "--inh-caps", "-sys_admin"]);

        Assert.Equal(1, check.ExitCode);
        Assert.Equal("FAIL", check["privileges"].Status);
        Assert.Contains("running as root (uid 0) without CAP_SYS_ADMIN", check["privileges"].Detail, StringComparison.Ordinal);
        Assert.Equal("FAIL", check["overlayfs"].Status);
        Assert.Contains("EPERM", check["overlayfs"].Detail.Replace("Operation not permitted (errno 1)", "EPERM", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("serve cannot run: privileges:", check.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_NotRoot_Exit1NamingTheUidAndCapabilities()
    {
        // uid/gid 65534 (nobody), no capabilities. The temp dir is root's (0700): the root directory fails too.
        var check = await RunAsAsync(["--reuid", "65534", "--regid", "65534", "--clear-groups"]);

        Assert.Equal(1, check.ExitCode);
        Assert.Equal("FAIL", check["privileges"].Status);
        Assert.Contains("running as uid 65534 without CAP_SYS_ADMIN, CAP_CHOWN", check["privileges"].Detail, StringComparison.Ordinal);
        Assert.Contains("run the snapshotter as root", check["privileges"].Hint, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_FscacheRequestedOnThisHost_WarnsAndNamesTheFallback()
    {
        var check = await CheckAsync("--lazy-mode", "fscache");

        Assert.Equal(0, check.ExitCode);
        var (status, detail, _) = check["lazy_mode"];
        Assert.Equal("WARN", status);
        Assert.Contains("serve will use fuse, not the configured fscache", detail, StringComparison.Ordinal);
        Assert.Contains("/dev/cachefiles does not exist", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_LazyModeOff_ReportsOff()
    {
        var check = await CheckAsync("--lazy-mode", "off", "--json");

        Assert.Equal(0, check.ExitCode);
        using var document = check.Json();
        Assert.Equal("off", document.RootElement.GetProperty("lazy_mode").GetString());
        Assert.Contains("lazy_mode is off", document.RootElement.GetProperty("reason").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--lazy-mode", "magic", "'magic'")]
    [InlineData("--log-level", "loud", "log level 'loud'")]
    [InlineData("--config", "/nonexistent/config.json", "does not exist")]
    public async Task Check_BadConfiguration_Exit2NamingIt(string option, string value, string named)
    {
        var check = await CheckAsync(option, value);

        Assert.Equal(2, check.ExitCode);
        Assert.Equal(string.Empty, check.Stdout);
        Assert.Contains(named, check.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_LeavesNothingBehind()
    {
        var cache = Directory.CreateDirectory(Path.Combine(_dir, "cache")).FullName;
        var config = V2Config();
        var before = Directory.GetFileSystemEntries(_dir).Order().ToList();

        var check = await CheckAsync("--cache-dir", cache, "--containerd-config", config);

        Assert.True(check.ExitCode == 0, check.ToString());
        Assert.Equal(before, Directory.GetFileSystemEntries(_dir).Order().ToList());
        Assert.Empty(Directory.GetFileSystemEntries(cache));
        Assert.DoesNotContain(File.ReadLines("/proc/self/mountinfo"), line => line.Contains(_dir, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Check_ModeMatchesWhatServeChooses()
    {
        var check = await CheckAsync("--json");
        using var document = check.Json();
        var mode = document.RootElement.GetProperty("lazy_mode").GetString();

        await using var serve = await ServeProcess.StartAsync(Root, Address);

        Assert.Contains($"lazy images are served in {mode} mode", serve.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_Check_DocumentsItsFlags()
    {
        var (exit, stdout, _) = await ServeProcess.RunToEndAsync("check", "--help");

        Assert.Equal(0, exit);
        foreach (var flag in new[] { "--json", "--containerd-config", "--config", "--root", "--address", "--cache-dir", "--lazy-mode" })
        {
            Assert.Contains(flag, stdout, StringComparison.Ordinal);
        }
    }

    private async Task<CheckOutput> RunAsAsync(string[] setpriv)
    {
        var dotnet = ServeProcess.StartInfo();
        var psi = new ProcessStartInfo("setpriv") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in setpriv.Concat(["env", "HOME=/tmp", "DOTNET_CLI_HOME=/tmp", dotnet.FileName, .. dotnet.ArgumentList, "check", "--root", Root, "--address", Address, "--containerd-config", V2Config()]))
        {
            psi.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in dotnet.Environment)
        {
            psi.Environment[key] = value;
        }

        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(cts.Token);
        return CheckOutput.Parse(process.ExitCode, await stdout, await stderr);
    }

    private static void Run(string file, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true })!;
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', args)}: {stderr}");
    }
}
