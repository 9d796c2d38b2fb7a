namespace Snapshotter.Registry;

/// <summary>Settings of a <see cref="RegistryClient"/>. Every property has a documented default.</summary>
public sealed class RegistryClientOptions
{
    /// <summary>Time allowed for one HTTP attempt, headers and body. Defaults to 30 seconds.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Time allowed for one operation across all attempts, hosts and backoffs. Defaults to 2 minutes.</summary>
    public TimeSpan OverallTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Time allowed to open a TCP/TLS connection. Defaults to 10 seconds.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Retries per host after the first attempt, for connection errors, 5xx, 429 and timeouts. Defaults to 4.</summary>
    public int MaxRetries { get; set; } = 4;

    /// <summary>First backoff delay; doubles per retry with jitter. Defaults to 100 ms.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Largest backoff delay, and the largest <c>Retry-After</c> honoured. Defaults to 10 seconds.</summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>containerd-style hosts directory (<c>&lt;host&gt;/hosts.toml</c>). Defaults to <c>/etc/containerd/certs.d</c>; a missing directory means no configuration.</summary>
    public string? HostsDirectory { get; set; } = "/etc/containerd/certs.d";

    /// <summary>
    /// Path of docker's <c>config.json</c>. Defaults to null: <c>$DOCKER_CONFIG/config.json</c>, else
    /// <c>~/.docker/config.json</c>. A missing file means anonymous access.
    /// </summary>
    public string? DockerConfigPath { get; set; }

    /// <summary>Platform chosen from indexes when the caller gives none. Defaults to <c>linux/amd64</c>.</summary>
    public Platform DefaultPlatform { get; set; } = Platform.Default;

    /// <summary>Blobs larger than this are uploaded in chunks of this size (PATCH); smaller ones in one PUT. Defaults to 8 MiB.</summary>
    public int UploadChunkSize { get; set; } = 8 * 1024 * 1024;

    /// <summary>Connections per server and pool. Defaults to 32.</summary>
    public int MaxConnectionsPerServer { get; set; } = 32;

    /// <summary>The <c>User-Agent</c> sent. Defaults to <c>snapshotter-registry/1</c>.</summary>
    public string UserAgent { get; set; } = "snapshotter-registry/1";

    /// <summary>Directories searched for <c>docker-credential-*</c> helpers before <c>PATH</c>. Defaults to none.</summary>
    public IReadOnlyList<string> CredentialHelperDirectories { get; set; } = [];

    /// <summary>Where registry answers and body bytes are counted. Defaults to <see cref="Telemetry.SnapshotterMetrics.Shared"/>.</summary>
    public Telemetry.SnapshotterMetrics? Metrics { get; set; }

    internal void Validate()
    {
        if (AttemptTimeout <= TimeSpan.Zero || OverallTimeout <= TimeSpan.Zero || ConnectTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("registry timeouts must be positive");
        }

        if (MaxRetries < 0 || UploadChunkSize < 1024 || MaxConnectionsPerServer < 1)
        {
            throw new ArgumentException("MaxRetries must be >= 0, UploadChunkSize >= 1024 and MaxConnectionsPerServer >= 1");
        }
    }
}
