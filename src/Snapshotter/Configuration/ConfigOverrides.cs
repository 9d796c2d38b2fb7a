namespace Snapshotter.Configuration;

/// <summary>Values given on the command line; null means "not given".</summary>
internal sealed record ConfigOverrides(
    string? ConfigFile,
    string? Root,
    string? Address,
    string? LogLevel,
    string? LazyMode = null,
    string? CacheDir = null,
    string? HostsDir = null,
    bool? Prefetch = null,
    string? MetricsAddress = null,
    string? LogFormat = null);
