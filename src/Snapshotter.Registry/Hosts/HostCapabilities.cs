namespace Snapshotter.Registry.Hosts;

/// <summary>What a host may be used for (containerd's <c>capabilities</c>).</summary>
[Flags]
internal enum HostCapabilities
{
    None = 0,
    Pull = 1,
    Resolve = 2,
    Push = 4,

    /// <summary>The referrers API; accepted in hosts.toml like containerd, not used by this client.</summary>
    Referrers = 8,
    All = Pull | Resolve | Push | Referrers,
}
