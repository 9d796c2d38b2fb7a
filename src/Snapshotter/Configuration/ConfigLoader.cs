using System.Text.Json;
using System.Text.Json.Serialization;

namespace Snapshotter.Configuration;

/// <summary>Builds the effective <see cref="SnapshotterConfig"/>: defaults, then file, then environment, then flags.</summary>
internal static class ConfigLoader
{
    /// <summary>The config file to read instead of <see cref="SnapshotterConfig.DefaultConfigPath"/>.</summary>
    public const string ConfigEnv = "SNAPSHOTTER_CONFIG";

    public static readonly EnvSetting RootEnv = new("SNAPSHOTTER_ROOT", (config, value) => config with { Root = value });

    public static readonly EnvSetting AddressEnv = new("SNAPSHOTTER_ADDRESS", (config, value) => config with { Address = value });

    public static readonly EnvSetting LogLevelEnv = new("SNAPSHOTTER_LOG_LEVEL", (config, value) => config with { LogLevel = value });

    public static readonly EnvSetting LazyModeEnv = new("SNAPSHOTTER_LAZY_MODE", (config, value) => config with { LazyMode = value });

    /// <summary>The settings the environment overrides; a variable that is unset or empty leaves the setting alone.</summary>
    private static readonly EnvSetting[] EnvSettings = [RootEnv, AddressEnv, LogLevelEnv, LazyModeEnv];

    private static readonly string[] LogLevels = ["trace", "debug", "info", "warn", "error"];

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        // A typo in a config key must be an error, not a silently ignored setting.
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    /// <summary>Loads and validates the configuration; throws <see cref="ConfigException"/> naming the problem.</summary>
    public static SnapshotterConfig Load(ConfigOverrides flags, Func<string, string?>? getEnv = null)
    {
        getEnv ??= Environment.GetEnvironmentVariable;
        var config = new SnapshotterConfig();

        var explicitFile = flags.ConfigFile ?? NullIfEmpty(getEnv(ConfigEnv));
        var file = explicitFile ?? SnapshotterConfig.DefaultConfigPath;
        if (File.Exists(file))
        {
            config = ReadFile(file);
        }
        else if (explicitFile is not null)
        {
            throw new ConfigException($"config file {explicitFile} does not exist");
        }

        foreach (var setting in EnvSettings)
        {
            if (NullIfEmpty(getEnv(setting.Name)) is { } value)
            {
                config = setting.Apply(config, value);
            }
        }

        config = config with
        {
            Root = flags.Root ?? config.Root,
            Address = flags.Address ?? config.Address,
            LogLevel = flags.LogLevel ?? config.LogLevel,
            LazyMode = flags.LazyMode ?? config.LazyMode,
            CacheDir = flags.CacheDir ?? config.CacheDir,
            HostsDir = flags.HostsDir ?? config.HostsDir,
            Prefetch = flags.Prefetch ?? config.Prefetch,
            MetricsAddress = flags.MetricsAddress ?? config.MetricsAddress,
            LogFormat = flags.LogFormat ?? config.LogFormat,
        };

        Validate(config);
        var root = Path.GetFullPath(config.Root);
        return config with
        {
            Root = root,
            Address = Path.GetFullPath(config.Address),
            LogLevel = config.LogLevel.ToLowerInvariant(),
            LazyMode = config.LazyMode.Trim().ToLowerInvariant(),
            LogFormat = config.LogFormat.Trim().ToLowerInvariant(),
            MetricsAddress = config.MetricsAddress.Trim(),
            CacheDir = Path.GetFullPath(string.IsNullOrWhiteSpace(config.CacheDir) ? Path.Combine(root, "cache") : config.CacheDir),
        };
    }

    /// <summary>Maps a configured level name to a <see cref="Microsoft.Extensions.Logging.LogLevel"/>.</summary>
    public static Microsoft.Extensions.Logging.LogLevel ToLogLevel(string level) => level switch
    {
        "trace" => Microsoft.Extensions.Logging.LogLevel.Trace,
        "debug" => Microsoft.Extensions.Logging.LogLevel.Debug,
        "warn" => Microsoft.Extensions.Logging.LogLevel.Warning,
        "error" => Microsoft.Extensions.Logging.LogLevel.Error,
        _ => Microsoft.Extensions.Logging.LogLevel.Information,
    };

    private static SnapshotterConfig ReadFile(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            return JsonSerializer.Deserialize<SnapshotterConfig>(stream, JsonOptions)
                ?? throw new ConfigException($"config file {path}: expected a JSON object, found null");
        }
        catch (JsonException e)
        {
            var where = e.LineNumber is { } line ? $" (line {line + 1})" : string.Empty;
            throw new ConfigException($"config file {path}{where}: {e.Message}", e);
        }
        catch (IOException e)
        {
            throw new ConfigException($"config file {path}: {e.Message}", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new ConfigException($"config file {path}: {e.Message}", e);
        }
    }

    private static void Validate(SnapshotterConfig config)
    {
        if (string.IsNullOrWhiteSpace(config.Root))
        {
            throw new ConfigException("root must not be empty");
        }

        // Overlay lowerdir= lists are ':'-separated and the kernel splits mount options on ','.
        foreach (var (key, path) in new[] { ("root", config.Root), ("cache_dir", config.CacheDir ?? string.Empty) })
        {
            if (path.IndexOfAny([',', ':']) >= 0)
            {
                throw new ConfigException($"{key} {path} must not contain ',' or ':' (they separate mount options and overlay layers)");
            }
        }

        if (string.IsNullOrWhiteSpace(config.Address))
        {
            throw new ConfigException("address must not be empty");
        }

        // sockaddr_un.sun_path holds 108 bytes including the terminating NUL.
        if (System.Text.Encoding.UTF8.GetByteCount(Path.GetFullPath(config.Address)) > 107)
        {
            throw new ConfigException($"address {config.Address} is too long for a unix socket path (max 107 bytes)");
        }

        if (!LogLevels.Contains(config.LogLevel.ToLowerInvariant()))
        {
            throw new ConfigException($"log level '{config.LogLevel}' is not one of {string.Join(", ", LogLevels)}");
        }

        if (config.ShutdownTimeoutSeconds is < 0 or > 3600)
        {
            throw new ConfigException($"shutdown_timeout_seconds {config.ShutdownTimeoutSeconds} is out of range 0..3600");
        }

        if (!Lazy.LazyModes.TryParse(config.LazyMode, out _, out var modeError) && modeError is not null)
        {
            throw new ConfigException(modeError);
        }

        if (config.LogFormat.Trim().ToLowerInvariant() is not ("text" or "json"))
        {
            throw new ConfigException($"log format '{config.LogFormat}' is not one of text, json");
        }

        if (config.MetricsAddress.Trim().Length > 0 && !System.Net.IPEndPoint.TryParse(config.MetricsAddress.Trim(), out _))
        {
            throw new ConfigException($"metrics address '{config.MetricsAddress}' is not host:port with an IP address (e.g. 127.0.0.1:9110, [::]:9110), or empty for off");
        }

        if (config.FetchTimeoutSeconds is < 1 or > 3600)
        {
            throw new ConfigException($"fetch_timeout_seconds {config.FetchTimeoutSeconds} is out of range 1..3600");
        }

        if (config.PrefetchRate < 0)
        {
            throw new ConfigException($"prefetch_rate {config.PrefetchRate} must not be negative");
        }

        if (string.IsNullOrWhiteSpace(config.Domain) || config.Domain.Any(c => c is ',' or '/' or ' '))
        {
            throw new ConfigException($"domain '{config.Domain}' must be a non-empty name without ',', '/' or spaces");
        }

        if (config.Platform is { Length: > 0 } platform)
        {
            try
            {
                Oci.Platform.Parse(platform);
            }
            catch (Exception e) when (e is FormatException or ArgumentException)
            {
                throw new ConfigException($"platform '{platform}': {e.Message}", e);
            }
        }
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
