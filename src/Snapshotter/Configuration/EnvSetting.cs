namespace Snapshotter.Configuration;

/// <summary>An environment variable that overrides one setting of the config file (flags override it in turn).</summary>
/// <param name="Name">The variable's name, as documented in the flags' help.</param>
/// <param name="Apply">Returns the configuration with the variable's (non-empty) value set.</param>
internal sealed record EnvSetting(string Name, Func<SnapshotterConfig, string, SnapshotterConfig> Apply);
