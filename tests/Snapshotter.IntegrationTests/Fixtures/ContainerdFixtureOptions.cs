namespace Snapshotter.IntegrationTests.Fixtures;

/// <summary>What a <see cref="ContainerdFixture"/> starts besides its defaults (proxy plugin <c>lazy</c>, CRI off).</summary>
public sealed record ContainerdFixtureOptions
{
    /// <summary>The proxy plugin's name in containerd's config (what <c>--snapshotter</c> names). Defaults to <c>lazy</c>.</summary>
    public string ProxyName { get; init; } = ContainerdFixture.DefaultProxyName;

    /// <summary>
    /// When set, containerd's CRI plugin runs (image service on containerd's socket, no CNI needed for images) with the
    /// proxy plugin as its snapshotter, <c>disable_snapshot_annotations = false</c>, and registry <c>config_path</c> = this
    /// directory of <c>&lt;host&gt;/hosts.toml</c> files. Defaults to null: CRI is disabled (containerd starts faster).
    /// </summary>
    public string? CriHostsDirectory { get; init; }

    /// <summary>Extra arguments to <c>snapshotter serve</c> (e.g. <c>--lazy-mode fuse</c>). Defaults to none.</summary>
    public IReadOnlyList<string> SnapshotterArguments { get; init; } = [];

    /// <summary>The JSON config file given to <c>snapshotter serve --config</c>. Defaults to <see cref="SnapshotterProcess.DefaultConfigJson"/> (no metrics endpoint).</summary>
    public string SnapshotterConfigJson { get; init; } = SnapshotterProcess.DefaultConfigJson;

    /// <summary>
    /// How long containerd and our service may take to accept connections, at start and at a restart (the emulated VM
    /// guest JIT-compiles the service for minutes). Defaults to <see cref="SnapshotterProcess.DefaultStartTimeout"/>.
    /// </summary>
    public TimeSpan StartTimeout { get; init; } = SnapshotterProcess.DefaultStartTimeout;
}
