namespace Snapshotter.Lazy;

/// <summary>The names of <see cref="LazyMode"/> as users write them.</summary>
internal static class LazyModes
{
    /// <summary>Each mode with its name: the one table both directions (parse, name) read.</summary>
    private static readonly (string Name, LazyMode Mode)[] Table =
        [("auto", LazyMode.Auto), ("fscache", LazyMode.Fscache), ("fuse", LazyMode.Fuse), ("blob-fetch", LazyMode.BlobFetch)];

    /// <summary>Every accepted value of <c>--lazy-mode</c> (<c>off</c> disables lazy pulling and is handled by the host).</summary>
    public static readonly IReadOnlyList<string> Names = [.. Table.Select(entry => entry.Name), "off"];

    /// <summary>Parses a mode name; false for <c>off</c> or an unknown name (<paramref name="error"/> says which).</summary>
    public static bool TryParse(string? value, out LazyMode mode, out string? error)
    {
        var name = value?.Trim().ToLowerInvariant();
        foreach (var entry in Table)
        {
            if (entry.Name == name)
            {
                mode = entry.Mode;
                error = null;
                return true;
            }
        }

        mode = LazyMode.Auto;
        error = name == "off" ? null : $"lazy mode '{value}' is not one of {string.Join(", ", Names)}";
        return false;
    }

    /// <summary>The user-facing name of <paramref name="mode"/>.</summary>
    public static string Name(LazyMode mode) => Array.Find(Table, entry => entry.Mode == mode).Name ?? "auto";
}
