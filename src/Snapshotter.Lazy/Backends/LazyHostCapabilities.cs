namespace Snapshotter.Lazy.Backends;

/// <summary>
/// What <see cref="LazyModeProbe.Probe"/> found on this host: EROFS at all, EROFS mounted from regular files, loop
/// devices, and one verdict per probed mode. Both the service (<see cref="BackendSelector"/>) and
/// <c>snapshotter check</c> decide from it.
/// </summary>
internal sealed record LazyHostCapabilities
{
    /// <summary>Whether the kernel mounts EROFS at all (a test mount did not fail with ENODEV).</summary>
    public required bool Erofs { get; init; }

    /// <summary>What the EROFS probe found.</summary>
    public required string ErofsReason { get; init; }

    /// <summary>Whether EROFS mounts straight from regular files (Linux 6.12+, CONFIG_EROFS_FS_BACKED_BY_FILE).</summary>
    public required bool FileBacked { get; init; }

    /// <summary>What the file-backed probe found (the kernel's errno when it refused).</summary>
    public required string FileBackedReason { get; init; }

    /// <summary>The verdict on each probed mode, in preference order.</summary>
    public required IReadOnlyList<LazyModeVerdict> Verdicts { get; init; }

    /// <summary>The verdict on <paramref name="mode"/>, or null when it was not probed.</summary>
    public LazyModeVerdict? Verdict(LazyMode mode) => Verdicts.FirstOrDefault(v => v.Mode == mode);

    /// <summary>These capabilities with <paramref name="verdict"/> replacing the one on its mode (a start that failed after a good probe).</summary>
    public LazyHostCapabilities With(LazyModeVerdict verdict) =>
        this with { Verdicts = [.. Verdicts.Select(v => v.Mode == verdict.Mode ? verdict : v)] };
}
