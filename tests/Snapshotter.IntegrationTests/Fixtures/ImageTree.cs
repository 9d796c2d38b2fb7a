using System.Security.Cryptography;

namespace Snapshotter.IntegrationTests.Fixtures;

/// <summary>
/// What a container must see of an image: the sha256 of every regular file and the target of every symlink, by
/// absolute path. Built from an independent unpack of the image (umoci), compared with what a container reports.
/// </summary>
public sealed class ImageTree
{
    private ImageTree(IReadOnlyDictionary<string, string> files, IReadOnlyDictionary<string, string> symlinks, long bytes)
    {
        Files = files;
        Symlinks = symlinks;
        Bytes = bytes;
    }

    /// <summary>Absolute path -> lowercase hex sha256 of the content.</summary>
    public IReadOnlyDictionary<string, string> Files { get; }

    /// <summary>Absolute path -> link target, as stored.</summary>
    public IReadOnlyDictionary<string, string> Symlinks { get; }

    /// <summary>Total size of the regular files.</summary>
    public long Bytes { get; }

    /// <summary>Walks an unpacked root file system (never following symlinks; the test image has no directory symlinks).</summary>
    public static ImageTree FromDirectory(string rootfs)
    {
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var links = new SortedDictionary<string, string>(StringComparer.Ordinal);
        long bytes = 0;
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = false };
        foreach (var entry in new DirectoryInfo(rootfs).EnumerateFileSystemInfos("*", options))
        {
            string path = "/" + Path.GetRelativePath(rootfs, entry.FullName);
            if (entry.LinkTarget is { } target)
            {
                links[path] = target;
            }
            else if (entry is FileInfo file)
            {
                using var stream = file.OpenRead();
                files[path] = Convert.ToHexStringLower(SHA256.HashData(stream));
                bytes += file.Length;
            }
        }

        return new ImageTree(files, links, bytes);
    }

    /// <summary>
    /// Parses what <see cref="LazyTestImage.TreeScript"/> printed in a container: <c>F &lt;sha256&gt;  &lt;path&gt;</c>
    /// and <c>L &lt;path&gt; -&gt; &lt;target&gt;</c> lines (other lines are ignored).
    /// </summary>
    public static ImageTree FromReport(string report)
    {
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var links = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (string raw in report.Split('\n'))
        {
            string line = raw.TrimEnd('\r');
            if (line.StartsWith("F ", StringComparison.Ordinal) && line.Length > 68)
            {
                // busybox sha256sum: "<64 hex>  <path>"
                files[line[68..]] = line[2..66];
            }
            else if (line.StartsWith("L ", StringComparison.Ordinal) && line.IndexOf(" -> ", StringComparison.Ordinal) is int arrow and > 2)
            {
                links[line[2..arrow]] = line[(arrow + 4)..];
            }
        }

        return new ImageTree(files, links, 0);
    }

    /// <summary>A readable list of the differences to <paramref name="actual"/> (empty when they agree), at most <paramref name="max"/> lines.</summary>
    public IReadOnlyList<string> Differences(ImageTree actual, int max = 30)
    {
        var diffs = new List<string>();
        Compare("file", Files, actual.Files, diffs);
        Compare("symlink", Symlinks, actual.Symlinks, diffs);
        return diffs.Take(max).ToList();
    }

    private static void Compare(string what, IReadOnlyDictionary<string, string> expected, IReadOnlyDictionary<string, string> actual, List<string> diffs)
    {
        foreach (var (path, value) in expected)
        {
            if (!actual.TryGetValue(path, out string? seen))
            {
                diffs.Add($"missing {what} {path}");
            }
            else if (seen != value)
            {
                diffs.Add($"{what} {path}: expected {value}, got {seen}");
            }
        }

        foreach (string path in actual.Keys.Where(p => !expected.ContainsKey(p)))
        {
            diffs.Add($"unexpected {what} {path} ({actual[path]})");
        }
    }
}
