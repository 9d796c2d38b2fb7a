namespace Snapshotter.Lazy.Backends;

/// <summary>Whether one lazy mode works on this host, and why (with the kernel's answer where there is one).</summary>
/// <param name="Mode">The mode judged.</param>
/// <param name="Available">True when the mode's prerequisites were proven (device bound, file opened, test mount made).</param>
/// <param name="Reason">What was found, in words an operator can act on.</param>
internal sealed record LazyModeVerdict(LazyMode Mode, bool Available, string Reason);
