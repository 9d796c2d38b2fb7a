namespace Snapshotter.Fuse.Tests.Infrastructure;

/// <summary>A directory under /tmp removed with everything below it (mounts must be gone first).</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory(string prefix = "fuse-test")
    {
        Path = Directory.CreateTempSubdirectory(prefix).FullName;
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A mount that failed to go away keeps its directory; the next run uses a new one.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
