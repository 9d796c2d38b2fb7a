namespace Snapshotter.Registry.Hosts;

/// <summary>What a host may be used for (containerd's <c>capabilities</c>).</summary>
[Flags]
internal enum HostCapabilities
{
    None = 0,
    Pull = 1,
    Resolve = 2,
    Push = 4,
    All = Pull | Resolve | Push,
}
