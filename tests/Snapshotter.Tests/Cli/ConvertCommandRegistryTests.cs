using System.Diagnostics;
using System.Text.Json;
using Snapshotter.Registry.Tests.Infrastructure;
using Snapshotter.Tests.Hosting;

namespace Snapshotter.Tests.Cli;

/// <summary><c>snapshotter convert</c> with registry references, against a real docker-registry.</summary>
public sealed class ConvertCommandRegistryTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("convreg").FullName;
    private RegistryProcess? _registry;

    public async Task InitializeAsync()
    {
        _registry = await RegistryProcess.StartAsync();
        Run("umoci", "init", "--layout", Path.Combine(_dir, "src"));
        Run("umoci", "new", "--image", Path.Combine(_dir, "src") + ":v1");
        Run("umoci", "unpack", "--image", Path.Combine(_dir, "src") + ":v1", Path.Combine(_dir, "bundle"));
        await File.WriteAllTextAsync(Path.Combine(_dir, "bundle", "rootfs", "hello.txt"), "hello lazy world\n");
        Run("umoci", "repack", "--refresh-bundle", "--image", Path.Combine(_dir, "src") + ":v1", Path.Combine(_dir, "bundle"));
    }

    public async Task DisposeAsync()
    {
        if (_registry is not null)
        {
            await _registry.DisposeAsync();
        }

        Directory.Delete(_dir, recursive: true);
    }

    private static void Run(string file, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        var stderr = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', args)}: {stderr}");
    }

    [Fact]
    public async Task Convert_LayoutToRegistryAndBack_PushesNydusConventionImage()
    {
        var target = $"{_registry!.Host}/conv/app:v1-lazy";

        var (exit, stdout, stderr) = await ServeProcess.RunToEndAsync("convert", $"oci:{Path.Combine(_dir, "src")}:v1", target);

        Assert.True(exit == 0, stderr);
        Assert.Contains("manifest sha256:", stdout);
        var (mexit, manifest, merr) = await ServeProcess.RunToEndAsync("registry", "manifest", target);
        Assert.True(mexit == 0, merr);
        using var json = JsonDocument.Parse(manifest);
        var layers = json.RootElement.GetProperty("layers").EnumerateArray().ToList();
        Assert.Equal("application/vnd.oci.image.layer.nydus.blob.v1", layers[0].GetProperty("mediaType").GetString());
        Assert.Equal("true", layers[^1].GetProperty("annotations").GetProperty("containerd.io/snapshot/nydus-bootstrap").GetString());

        // A registry source works too: converting the pushed original again from the registry.
        var (pexit, _, perr) = await ServeProcess.RunToEndAsync("convert", $"oci:{Path.Combine(_dir, "src")}:v1", $"oci:{Path.Combine(_dir, "out")}:v1");
        Assert.True(pexit == 0, perr);
    }

    [Fact]
    public async Task Convert_TargetWithDigest_FailsClearly()
    {
        var (exit, _, stderr) = await ServeProcess.RunToEndAsync(
            "convert", $"oci:{Path.Combine(_dir, "src")}:v1", $"{_registry!.Host}/conv/app@sha256:{new string('0', 64)}");

        Assert.NotEqual(0, exit);
        Assert.Contains("needs a tag", stderr);
    }

    [Fact]
    public async Task Inspect_RegistryReference_ListsAndCatsFromTheRegistry()
    {
        var target = $"{_registry!.Host}/conv/inspect:v1-lazy";
        var (exit, _, stderr) = await ServeProcess.RunToEndAsync("convert", $"oci:{Path.Combine(_dir, "src")}:v1", target);
        Assert.True(exit == 0, stderr);

        var (lexit, listing, lerr) = await ServeProcess.RunToEndAsync("inspect", target, "--ls");
        var (cexit, cat, cerr) = await ServeProcess.RunToEndAsync("inspect", target, "--cat", "/hello.txt");

        Assert.True(lexit == 0, lerr);
        Assert.Contains(listing.Split('\n'), line => line.EndsWith(" /hello.txt", StringComparison.Ordinal) && line.StartsWith("100644 ", StringComparison.Ordinal));
        Assert.True(cexit == 0, cerr);
        Assert.Equal("hello lazy world\n", cat);
    }
}
