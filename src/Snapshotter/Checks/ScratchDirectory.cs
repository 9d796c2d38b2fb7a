namespace Snapshotter.Checks;

/// <summary>
/// A uniquely named directory <c>snapshotter check</c> probes in, inside a configured directory or, when that does not
/// exist yet, its nearest existing parent (the filesystem <c>serve</c> would create it on). Removed on dispose, so that
/// a check leaves nothing behind.
/// </summary>
internal sealed class ScratchDirectory : IDisposable
{
    private ScratchDirectory(string path, string probed)
    {
        Path = path;
        Probed = probed;
    }

    /// <summary>The scratch directory.</summary>
    public string Path { get; }

    /// <summary>The existing directory it was made in: the configured one or its nearest existing parent.</summary>
    public string Probed { get; }

    /// <summary>The configured path, or its nearest existing parent directory.</summary>
    public static string NearestExisting(string path)
    {
        var current = System.IO.Path.GetFullPath(path);
        while (!Directory.Exists(current))
        {
            current = System.IO.Path.GetDirectoryName(current) ?? "/";
        }

        return current;
    }

    /// <summary>Creates a scratch directory for <paramref name="configured"/>; throws IOException/UnauthorizedAccessException when it cannot.</summary>
    public static ScratchDirectory Create(string configured)
    {
        var probed = NearestExisting(configured);
        var path = System.IO.Path.Combine(probed, ".snapshotter-check-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return new ScratchDirectory(path, probed);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Something is still mounted inside after a failed unmount: leave it, the name is unique.
        }
    }
}
