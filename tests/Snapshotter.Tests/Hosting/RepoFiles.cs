namespace Snapshotter.Tests.Hosting;

/// <summary>Files of the repository checkout the tests were built from (deploy/, ...).</summary>
internal static class RepoFiles
{
    /// <summary>The checkout's root: the nearest directory above the test binaries holding Snapshotter.sln.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>The absolute path of <paramref name="relative"/> (e.g. <c>deploy/prometheus/scrape.yml</c>); the file must exist.</summary>
    public static string Path(string relative)
    {
        var path = System.IO.Path.Combine(Root, relative);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{relative} is missing from the checkout at {Root}", path);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Snapshotter.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"no Snapshotter.sln above {AppContext.BaseDirectory}");
    }
}
