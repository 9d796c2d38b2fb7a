using System.Text.Json.Serialization;

namespace Snapshotter.Configuration;

/// <summary>
/// The daemon's configuration. Sources, lowest precedence first: built-in defaults, the JSON config file,
/// environment variables (<c>SNAPSHOTTER_*</c>), command-line flags.
/// </summary>
internal sealed record SnapshotterConfig
{
    public const string DefaultRoot = "/var/lib/containerd-lazy-snapshotter";
    public const string DefaultAddress = "/run/containerd-lazy-snapshotter/snapshotter.sock";
    public const string DefaultConfigPath = "/etc/containerd-lazy-snapshotter/config.json";

    /// <summary>Directory holding the metadata database and snapshot directories. Defaults to <see cref="DefaultRoot"/>.</summary>
    [JsonPropertyName("root")]
    public string Root { get; init; } = DefaultRoot;

    /// <summary>Unix socket containerd's proxy plugin connects to. Defaults to <see cref="DefaultAddress"/>.</summary>
    [JsonPropertyName("address")]
    public string Address { get; init; } = DefaultAddress;

    /// <summary>Minimum log level: trace, debug, info, warn, error. Defaults to info.</summary>
    [JsonPropertyName("log_level")]
    public string LogLevel { get; init; } = "info";

    /// <summary>How long a SIGTERM waits for in-flight calls before stopping. Defaults to 30 s.</summary>
    [JsonPropertyName("shutdown_timeout_seconds")]
    public int ShutdownTimeoutSeconds { get; init; } = 30;
}
