namespace Snapshotter.Tests.Hosting;

public sealed class CommandLineTests
{
    [Fact]
    public async Task Help_Serve_DocumentsEveryFlagWithDefaults()
    {
        var (exit, stdout, _) = await ServeProcess.RunToEndAsync("serve", "--help");

        Assert.Equal(0, exit);
        foreach (var expected in new[]
                 {
                     "--config", "--root", "--address", "--log-level",
                     "/var/lib/containerd-lazy-snapshotter", "/run/containerd-lazy-snapshotter/snapshotter.sock",
                     "SNAPSHOTTER_ROOT", "SNAPSHOTTER_ADDRESS", "SNAPSHOTTER_LOG_LEVEL", "SNAPSHOTTER_CONFIG", "SIGTERM",
                 })
        {
            Assert.Contains(expected, stdout);
        }
    }

    [Fact]
    public async Task Help_Root_ListsServe()
    {
        var (exit, stdout, _) = await ServeProcess.RunToEndAsync("--help");

        Assert.Equal(0, exit);
        Assert.Contains("serve", stdout);
    }

    [Fact]
    public async Task Serve_BadConfigFile_ExitsTwoNamingTheProblem()
    {
        var dir = Directory.CreateTempSubdirectory("badcfg").FullName;
        try
        {
            var file = Path.Combine(dir, "config.json");
            await File.WriteAllTextAsync(file, """{ "adress": "/tmp/x.sock" }""");

            var (exit, _, stderr) = await ServeProcess.RunToEndAsync("serve", "--config", file, "--root", Path.Combine(dir, "root"));

            Assert.Equal(2, exit);
            Assert.Contains("adress", stderr);
            Assert.False(Directory.Exists(Path.Combine(dir, "root")), "a rejected config must not create state");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task UnknownCommand_FailsWithNonZeroExit()
    {
        var (exit, _, stderr) = await ServeProcess.RunToEndAsync("serv");

        Assert.NotEqual(0, exit);
        Assert.Contains("serv", stderr);
    }
}
