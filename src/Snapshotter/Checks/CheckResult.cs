namespace Snapshotter.Checks;

/// <summary>One line of <c>snapshotter check</c>.</summary>
/// <param name="Name">Stable identifier, e.g. <c>cache_dir.filesystem</c> (the JSON <c>name</c>).</param>
/// <param name="Status">The verdict.</param>
/// <param name="Detail">What was found (paths, versions, the kernel's errno).</param>
/// <param name="Hint">What to do about a WARN or FAIL; null when nothing is to be done.</param>
internal sealed record CheckResult(string Name, CheckStatus Status, string Detail, string? Hint = null)
{
    public static CheckResult Ok(string name, string detail) => new(name, CheckStatus.Ok, detail);

    public static CheckResult Warn(string name, string detail, string? hint) => new(name, CheckStatus.Warn, detail, hint);

    public static CheckResult Fail(string name, string detail, string hint) => new(name, CheckStatus.Fail, detail, hint);
}
