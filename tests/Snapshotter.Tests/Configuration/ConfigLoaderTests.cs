using Snapshotter.Configuration;

namespace Snapshotter.Tests.Configuration;

public sealed class ConfigLoaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cfgtest").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly ConfigOverrides NoFlags = new(null, null, null, null);

    private static Func<string, string?> Env(params (string Key, string Value)[] values) =>
        key => values.FirstOrDefault(v => v.Key == key).Value;

    private string WriteConfig(string json)
    {
        var path = Path.Combine(_dir, "config.json");
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void Load_NothingGiven_UsesDocumentedDefaults()
    {
        var config = ConfigLoader.Load(NoFlags, Env());

        Assert.Equal("/var/lib/containerd-lazy-snapshotter", config.Root);
        Assert.Equal("/run/containerd-lazy-snapshotter/snapshotter.sock", config.Address);
        Assert.Equal("info", config.LogLevel);
        Assert.Equal(30, config.ShutdownTimeoutSeconds);
    }

    [Fact]
    public void Load_FileEnvAndFlags_FlagsWinOverEnvWhichWinsOverFile()
    {
        var file = WriteConfig("""{ "root": "/file/root", "address": "/file/sock", "log_level": "debug", "shutdown_timeout_seconds": 5 }""");

        var fromFile = ConfigLoader.Load(NoFlags with { ConfigFile = file }, Env());
        Assert.Equal(("/file/root", "/file/sock", "debug", 5), (fromFile.Root, fromFile.Address, fromFile.LogLevel, fromFile.ShutdownTimeoutSeconds));

        var env = Env((ConfigLoader.RootEnv.Name, "/env/root"), (ConfigLoader.LogLevelEnv.Name, "warn"));
        var fromEnv = ConfigLoader.Load(NoFlags with { ConfigFile = file }, env);
        Assert.Equal(("/env/root", "/file/sock", "warn"), (fromEnv.Root, fromEnv.Address, fromEnv.LogLevel));

        var fromFlags = ConfigLoader.Load(new ConfigOverrides(file, "/flag/root", "/flag/sock", "ERROR"), env);
        Assert.Equal(("/flag/root", "/flag/sock", "error"), (fromFlags.Root, fromFlags.Address, fromFlags.LogLevel));
    }

    [Fact]
    public void Load_ConfigFileFromEnvironment_IsRead()
    {
        var file = WriteConfig("""{ "root": "/from/env/file" }""");

        var config = ConfigLoader.Load(NoFlags, Env((ConfigLoader.ConfigEnv, file)));

        Assert.Equal("/from/env/file", config.Root);
    }

    [Fact]
    public void Load_RelativePaths_AreMadeAbsolute()
    {
        var config = ConfigLoader.Load(NoFlags with { Root = "rel/root", Address = "rel.sock" }, Env());

        Assert.True(Path.IsPathRooted(config.Root));
        Assert.EndsWith("/rel/root", config.Root);
        Assert.EndsWith("/rel.sock", config.Address);
    }

    [Fact]
    public void Load_MissingExplicitFile_FailsNamingTheFile()
    {
        var missing = Path.Combine(_dir, "nope.json");

        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(NoFlags with { ConfigFile = missing }, Env()));

        Assert.Contains(missing, e.Message);
        Assert.Contains("does not exist", e.Message);
    }

    [Fact]
    public void Load_UnknownKey_FailsNamingTheKey()
    {
        var file = WriteConfig("""{ "roots": "/typo" }""");

        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(NoFlags with { ConfigFile = file }, Env()));

        Assert.Contains(file, e.Message);
        Assert.Contains("roots", e.Message);
    }

    [Fact]
    public void Load_MalformedJson_FailsWithLineNumber()
    {
        var file = WriteConfig("{\n  \"root\": \"/x\",\n  \"address\": \n}");

        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(NoFlags with { ConfigFile = file }, Env()));

        Assert.Contains(file, e.Message);
        Assert.Contains("line", e.Message);
    }

    [Fact]
    public void Load_WrongType_FailsNamingTheProblem()
    {
        var file = WriteConfig("""{ "shutdown_timeout_seconds": "soon" }""");

        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(NoFlags with { ConfigFile = file }, Env()));

        Assert.Contains("shutdown_timeout_seconds", e.Message);
    }

    [Theory]
    [InlineData("verbose")]
    [InlineData("")]
    public void Load_UnknownLogLevelFlag_FailsListingKnownLevels(string level)
    {
        var error = Assert.Throws<ConfigException>(() => ConfigLoader.Load(NoFlags with { LogLevel = level }, Env()));

        Assert.Contains($"log level '{level}'", error.Message);
        Assert.Contains("trace, debug, info, warn, error", error.Message);
    }

    [Fact]
    public void Load_SocketPathTooLong_Fails()
    {
        var longPath = "/run/" + new string('s', 120) + ".sock";

        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(NoFlags with { Address = longPath }, Env()));

        Assert.Contains("too long", e.Message);
    }

    [Fact]
    public void Load_EmptyRootFromFile_Fails()
    {
        var file = WriteConfig("""{ "root": "  " }""");

        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(NoFlags with { ConfigFile = file }, Env()));

        Assert.Contains("root must not be empty", e.Message);
    }

    [Fact]
    public void Load_ShutdownTimeoutOutOfRange_Fails()
    {
        var file = WriteConfig("""{ "shutdown_timeout_seconds": -1 }""");

        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(NoFlags with { ConfigFile = file }, Env()));

        Assert.Contains("shutdown_timeout_seconds", e.Message);
    }

    [Theory]
    [InlineData("trace", Microsoft.Extensions.Logging.LogLevel.Trace)]
    [InlineData("debug", Microsoft.Extensions.Logging.LogLevel.Debug)]
    [InlineData("info", Microsoft.Extensions.Logging.LogLevel.Information)]
    [InlineData("warn", Microsoft.Extensions.Logging.LogLevel.Warning)]
    [InlineData("error", Microsoft.Extensions.Logging.LogLevel.Error)]
    public void ToLogLevel_KnownNames_MapToLevels(string name, Microsoft.Extensions.Logging.LogLevel expected) =>
        Assert.Equal(expected, ConfigLoader.ToLogLevel(name));

    [Fact]
    public void Load_NothingGiven_LazyDefaults()
    {
        var config = ConfigLoader.Load(NoFlags, Env());

        Assert.Equal("auto", config.LazyMode);
        Assert.Equal("/var/lib/containerd-lazy-snapshotter/cache", config.CacheDir);
        Assert.Equal("/etc/containerd/certs.d", config.HostsDir);
        Assert.Equal("lazysnap", config.Domain);
        Assert.False(config.Prefetch);
        Assert.Equal(60, config.FetchTimeoutSeconds);
    }

    [Fact]
    public void Load_ShippedDeployConfig_ParsesWithEveryKey()
    {
        var shipped = Path.Combine(RepoRoot(), "deploy", "config.json");

        var config = ConfigLoader.Load(NoFlags with { ConfigFile = shipped }, Env());

        Assert.Equal("auto", config.LazyMode);
        Assert.Equal("/var/lib/containerd-lazy-snapshotter/cache", config.CacheDir);
        Assert.Equal(30, config.ShutdownTimeoutSeconds);
    }

    [Fact]
    public void Load_LazyModeFromFileEnvAndFlag_FlagWins()
    {
        var file = WriteConfig("""{ "lazy_mode": "blob-fetch", "root": "/r" }""");

        Assert.Equal("blob-fetch", ConfigLoader.Load(NoFlags with { ConfigFile = file }, Env()).LazyMode);
        Assert.Equal("off", ConfigLoader.Load(NoFlags with { ConfigFile = file }, Env((ConfigLoader.LazyModeEnv.Name, "OFF"))).LazyMode);
        var flagged = ConfigLoader.Load(NoFlags with { ConfigFile = file, LazyMode = "fuse" }, Env((ConfigLoader.LazyModeEnv.Name, "off")));
        Assert.Equal("fuse", flagged.LazyMode);
        Assert.Equal("/r/cache", flagged.CacheDir);
    }

    [Theory]
    [InlineData("""{ "lazy_mode": "magic" }""", "lazy mode 'magic'")]
    [InlineData("""{ "fetch_timeout_seconds": 0 }""", "fetch_timeout_seconds")]
    [InlineData("""{ "prefetch_rate": -1 }""", "prefetch_rate")]
    [InlineData("""{ "domain": "a,b" }""", "domain")]
    [InlineData("""{ "platform": "linux" }""", "platform 'linux'")]
    [InlineData("""{ "lazy_mod": "auto" }""", "lazy_mod")]
    [InlineData("""{ "cache_dir": "/var/a,b" }""", "cache_dir /var/a,b must not contain")]
    [InlineData("""{ "root": "/var/a:b" }""", "root /var/a:b must not contain")]
    public void Load_BadLazySetting_FailsNamingIt(string json, string named)
    {
        var file = WriteConfig(json);

        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(NoFlags with { ConfigFile = file }, Env()));

        Assert.Contains(named, e.Message, StringComparison.Ordinal);
    }

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Snapshotter.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("repository root (Snapshotter.sln) not found above " + AppContext.BaseDirectory);
    }
}
