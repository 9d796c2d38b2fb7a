using Snapshotter.Tests.Hosting;

namespace Snapshotter.Tests.Cli;

/// <summary>
/// <c>snapshotter mount</c> on the host: argument errors and a kernel without <c>/dev/cachefiles</c> (the host has none;
/// the mount itself is proven in Snapshotter.KernelTests inside the on-demand VM).
/// </summary>
public sealed class MountCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mount-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("--readahead", "-1", "--readahead")]
    [InlineData("--amplify", "-5", "--amplify")]
    [InlineData("--fetch-timeout", "0", "--fetch-timeout")]
    [InlineData("--max-request", "0", "--max-request")]
    public async Task Mount_InvalidNumber_Exit2NamingTheOption(string option, string value, string named)
    {
        var (exit, stdout, stderr) = await ServeProcess.RunToEndAsync("mount", "127.0.0.1:5000/app:lazy", _dir, option, value);

        Assert.Equal(2, exit);
        Assert.Equal(string.Empty, stdout);
        Assert.Contains(named, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mount_MissingMountPoint_Exit2()
    {
        var (exit, _, stderr) = await ServeProcess.RunToEndAsync("mount", "127.0.0.1:5000/app:lazy", Path.Combine(_dir, "absent"));

        Assert.Equal(2, exit);
        Assert.Contains("is not a directory", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mount_FscacheModeOnKernelWithoutCachefiles_Exit2WithReason()
    {
        // The host kernel of this project's machines has no cachefiles device (the on-demand tier runs in the VM).
        Assert.False(File.Exists("/dev/cachefiles"), "this test expects a host kernel without /dev/cachefiles");
        var (exit, stdout, stderr) = await ServeProcess.RunToEndAsync(
            "mount", "127.0.0.1:5000/app:lazy", _dir, "--cache-dir", Path.Combine(_dir, "cache"), "--lazy-mode", "fscache");

        Assert.Equal(2, exit);
        Assert.Equal(string.Empty, stdout);
        Assert.Contains("/dev/cachefiles does not exist", stderr, StringComparison.Ordinal);
        Assert.Contains("CONFIG_CACHEFILES_ONDEMAND", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mount_UnknownLazyMode_Exit2NamingTheModes()
    {
        var (exit, _, stderr) = await ServeProcess.RunToEndAsync("mount", "127.0.0.1:5000/app:lazy", _dir, "--lazy-mode", "magic");

        Assert.Equal(2, exit);
        Assert.Contains("'magic'", stderr, StringComparison.Ordinal);
        Assert.Contains("blob-fetch", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_ListsReadaheadAndAmplify()
    {
        var (exit, stdout, _) = await ServeProcess.RunToEndAsync("mount", "--help");

        Assert.Equal(0, exit);
        Assert.Contains("--readahead", stdout, StringComparison.Ordinal);
        Assert.Contains("--amplify", stdout, StringComparison.Ordinal);
        Assert.Contains("--prefetch", stdout, StringComparison.Ordinal);
    }
}
