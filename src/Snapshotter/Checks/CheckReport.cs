namespace Snapshotter.Checks;

/// <summary>Everything <c>snapshotter check</c> found, and its conclusion.</summary>
/// <param name="Checks">One result per check, in the order they ran.</param>
/// <param name="LazyMode">The lazy mode <c>serve</c> will use: fscache, fuse, blob-fetch, or off.</param>
/// <param name="Reason">Why that mode (the shared decision of <c>Snapshotter.Lazy.Backends.LazyModeProbe</c>).</param>
internal sealed record CheckReport(IReadOnlyList<CheckResult> Checks, string LazyMode, string Reason)
{
    /// <summary>True when no check failed: <c>serve</c> can run here (lazy modes it lacks only WARN, since it falls back).</summary>
    public bool CanServe => Checks.All(c => c.Status != CheckStatus.Fail);

    /// <summary>The failed checks.</summary>
    public IEnumerable<CheckResult> Failures => Checks.Where(c => c.Status == CheckStatus.Fail);
}
