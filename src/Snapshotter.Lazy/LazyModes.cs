namespace Snapshotter.Lazy;

/// <summary>The names of <see cref="LazyMode"/> as users write them.</summary>
internal static class LazyModes
{
    /// <summary>Every accepted value of <c>--lazy-mode</c> (<c>off</c> disables lazy pulling and is handled by the host).</summary>
    public static readonly IReadOnlyList<string> Names = ["auto", "fscache", "fuse", "blob-fetch", "off"];

    /// <summary>Parses a mode name; false for <c>off</c> or an unknown name (<paramref name="error"/> says which).</summary>
    public static bool TryParse(string? value, out LazyMode mode, out string? error)
    {
        error = null;
        switch (value?.Trim().ToLowerInvariant())
        {
            case "auto":
                mode = LazyMode.Auto;
                return true;
            case "fscache":
                mode = LazyMode.Fscache;
                return true;
            case "fuse":
                mode = LazyMode.Fuse;
                return true;
            case "blob-fetch":
                mode = LazyMode.BlobFetch;
                return true;
            default:
                mode = LazyMode.Auto;
                error = value?.Trim().ToLowerInvariant() == "off" ? null : $"lazy mode '{value}' is not one of {string.Join(", ", Names)}";
                return false;
        }
    }

    /// <summary>The user-facing name of <paramref name="mode"/>.</summary>
    public static string Name(LazyMode mode) => mode switch
    {
        LazyMode.Fscache => "fscache",
        LazyMode.Fuse => "fuse",
        LazyMode.BlobFetch => "blob-fetch",
        _ => "auto",
    };
}
