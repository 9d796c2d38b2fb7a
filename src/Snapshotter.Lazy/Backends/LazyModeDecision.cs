namespace Snapshotter.Lazy.Backends;

/// <summary>The mode <see cref="LazyModeProbe.Decide"/> picked for a requested mode, and why.</summary>
/// <param name="Mode">The mode to serve in; null when none works (lazy images are then unpacked the ordinary way).</param>
/// <param name="Reason">Why: the chosen mode's verdict, then the verdicts of the better modes that were unavailable.</param>
/// <param name="Error">
/// Set when the requested mode is unavailable and falling back is not allowed (<see cref="LazyOptions.FallBackWhenUnavailable"/>):
/// the message to fail with.
/// </param>
internal sealed record LazyModeDecision(LazyMode? Mode, string Reason, string? Error = null);
