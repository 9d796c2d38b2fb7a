using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Snapshotter.Registry.Tests.Infrastructure;
using Snapshotter.Tests.Hosting;

namespace Snapshotter.Tests.Cli;

/// <summary>
/// Progress of <c>convert</c> and of <c>mount</c>'s bootstrap download when standard error is not a terminal (the
/// tests redirect it): plain lines, one per converted layer and one for the downloaded bootstrap, no <c>\r</c>.
/// Real executable, real docker-registry, and on this host a real FUSE + EROFS mount.
/// </summary>
public sealed partial class ProgressOutputTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("progress-cli-").FullName;
    private RegistryProcess? _registry;

    private string Layout => Path.Combine(_dir, "src");

    public async Task InitializeAsync()
    {
        _registry = await RegistryProcess.StartAsync();
        Run("umoci", "init", "--layout", Layout);
        Run("umoci", "new", "--image", Layout + ":v1");
        Run("umoci", "unpack", "--image", Layout + ":v1", Path.Combine(_dir, "bundle"));
        await File.WriteAllTextAsync(Path.Combine(_dir, "bundle", "rootfs", "hello.txt"), "hello lazy world\n");
        Run("umoci", "repack", "--refresh-bundle", "--image", Layout + ":v1", Path.Combine(_dir, "bundle"));
        // A second layer, so that there are two progress lines.
        await File.WriteAllTextAsync(Path.Combine(_dir, "bundle", "rootfs", "second.txt"), new string('x', 100_000));
        Run("umoci", "repack", "--refresh-bundle", "--image", Layout + ":v1", Path.Combine(_dir, "bundle"));
    }

    public async Task DisposeAsync()
    {
        if (_registry is not null)
        {
            await _registry.DisposeAsync();
        }

        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Convert_StderrRedirected_OnePlainLinePerLayer()
    {
        var layers = SourceLayerCount();

        var (exit, stdout, stderr) = await ServeProcess.RunToEndAsync("convert", $"oci:{Layout}:v1", $"oci:{Path.Combine(_dir, "out")}:v1");

        Assert.True(exit == 0, stderr);
        Assert.DoesNotContain('\r', stderr);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(layers, lines.Length);
        for (var i = 0; i < layers; i++)
        {
            Assert.Matches(LayerLine(), lines[i]);
            Assert.StartsWith($"layer {i + 1}/{layers}: ", lines[i], StringComparison.Ordinal);
        }

        // The summary stays on standard output.
        Assert.Contains("manifest sha256:", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("layer 1/", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mount_StderrRedirected_OnePlainLineForTheBootstrapThenNoneWhenCached()
    {
        Assert.True(File.Exists("/dev/fuse"), "this test mounts in fuse mode and needs /dev/fuse");
        var reference = $"{_registry!.Host}/progress/app:v1-lazy";
        var (cexit, _, cerr) = await ServeProcess.RunToEndAsync("convert", $"oci:{Layout}:v1", reference);
        Assert.True(cexit == 0, cerr);
        var cache = Path.Combine(_dir, "cache");

        var first = await MountAndReadAsync(reference, cache);
        var second = await MountAndReadAsync(reference, cache);

        var bootstrap = first.Split('\n').Where(l => l.StartsWith("bootstrap ", StringComparison.Ordinal)).ToList();
        Assert.True(bootstrap.Count == 1, first);
        Assert.Matches(BootstrapLine(), bootstrap[0]);
        Assert.DoesNotContain('\r', first);
        Assert.DoesNotContain(second.Split('\n'), l => l.StartsWith("bootstrap ", StringComparison.Ordinal));
    }

    private async Task<string> MountAndReadAsync(string reference, string cache)
    {
        var mnt = Directory.CreateDirectory(Path.Combine(_dir, "mnt-" + Guid.NewGuid().ToString("N")[..8])).FullName;
        var psi = ServeProcess.StartInfo("mount", reference, mnt, "--cache-dir", cache, "--lazy-mode", "fuse", "--hosts-dir", "/nonexistent");
        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            var line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromMinutes(2));
            Assert.True(line == $"mounted {mnt}", $"unexpected '{line}': {(process.HasExited ? await stderr : string.Empty)}");
            Assert.Equal("hello lazy world\n", await File.ReadAllTextAsync(Path.Combine(mnt, "hello.txt")));
            Process.Start("kill", ["-TERM", process.Id.ToString()])!.WaitForExit();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
            Assert.True(process.ExitCode == 0, await stderr);
            return await stderr;
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
                await process.WaitForExitAsync();
            }

            // Normally unmounted by SIGTERM already; this only cleans up after a failure.
            TryRun("umount", ["-l", mnt], out _);
        }
    }

    private int SourceLayerCount()
    {
        using var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(Layout, "index.json")));
        var digest = index.RootElement.GetProperty("manifests")[0].GetProperty("digest").GetString()!;
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(Layout, "blobs", "sha256", digest["sha256:".Length..])));
        return manifest.RootElement.GetProperty("layers").GetArrayLength();
    }

    private static void Run(string file, params string[] args) => Assert.True(TryRun(file, args, out var stderr), $"{file} {string.Join(' ', args)}: {stderr}");

    private static bool TryRun(string file, string[] args, out string stderr)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        stderr = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0;
    }

    [GeneratedRegex(@"^layer \d+/\d+: \d+(\.\d)? (B|KiB|MiB|GiB) in \d+\.\d s, \d+(\.\d)? (B|KiB|MiB|GiB)/s$")]
    private static partial Regex LayerLine();

    [GeneratedRegex(@"^bootstrap sha256:[0-9a-f]{12}: \d+(\.\d)? (B|KiB|MiB) in \d+\.\d s, \d+(\.\d)? (B|KiB|MiB|GiB)/s$")]
    private static partial Regex BootstrapLine();
}
