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

    /// <summary>
    /// How lazily pullable images are served: <c>auto</c> (fscache when the kernel has cachefiles on-demand, else fuse
    /// when it mounts EROFS from regular files, else blob-fetch), <c>fscache</c>, <c>fuse</c>, <c>blob-fetch</c> or
    /// <c>off</c> (every layer unpacked the ordinary way). Defaults to auto.
    /// </summary>
    [JsonPropertyName("lazy_mode")]
    public string LazyMode { get; init; } = "auto";

    /// <summary>Cache of lazily pulled data (must be on ext4, xfs or btrfs for fscache). Defaults to <c>&lt;root&gt;/cache</c>.</summary>
    [JsonPropertyName("cache_dir")]
    public string? CacheDir { get; init; }

    /// <summary>containerd-style registry host configuration (<c>&lt;host&gt;/hosts.toml</c>). Defaults to <c>/etc/containerd/certs.d</c>.</summary>
    [JsonPropertyName("hosts_dir")]
    public string HostsDir { get; init; } = "/etc/containerd/certs.d";

    /// <summary>docker <c>config.json</c> with registry credentials. Defaults to <c>$DOCKER_CONFIG/config.json</c>, else <c>~/.docker/config.json</c>.</summary>
    [JsonPropertyName("docker_config")]
    public string? DockerConfig { get; init; }

    /// <summary>The fscache domain lazily pulled images share (one cache object per data blob). Defaults to <c>lazysnap</c>.</summary>
    [JsonPropertyName("domain")]
    public string Domain { get; init; } = "lazysnap";

    /// <summary>Platform picked from image indexes (os/arch[/variant]) when resolving lazy images. Defaults to linux/amd64.</summary>
    [JsonPropertyName("platform")]
    public string? Platform { get; init; }

    /// <summary>Fetch the rest of each data blob in the background once it is first read. Defaults to false.</summary>
    [JsonPropertyName("prefetch")]
    public bool Prefetch { get; init; }

    /// <summary>Prefetch bandwidth cap in bytes per second; 0 is unlimited. Defaults to 0.</summary>
    [JsonPropertyName("prefetch_rate")]
    public long PrefetchRate { get; init; }

    /// <summary>A registry fetch (all retries) gives up after this many seconds; a reading process then gets EIO. Defaults to 60.</summary>
    [JsonPropertyName("fetch_timeout_seconds")]
    public int FetchTimeoutSeconds { get; init; } = 60;

    /// <summary>
    /// <c>host:port</c> of the HTTP endpoint serving Prometheus metrics at <c>/metrics</c> and a liveness check at
    /// <c>/healthz</c>; empty turns it off. Defaults to <c>127.0.0.1:9110</c>.
    /// </summary>
    [JsonPropertyName("metrics_address")]
    public string MetricsAddress { get; init; } = "127.0.0.1:9110";

    /// <summary>Log line format on standard output: <c>text</c> or <c>json</c>. Defaults to text.</summary>
    [JsonPropertyName("log_format")]
    public string LogFormat { get; init; } = "text";
}
