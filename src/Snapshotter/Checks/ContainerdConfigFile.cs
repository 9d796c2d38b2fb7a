using Tomlyn;
using Tomlyn.Model;

namespace Snapshotter.Checks;

/// <summary>
/// containerd's <c>config.toml</c> as containerd reads it: the file, then every file its <c>imports</c> name (globs,
/// relative to the file's directory) merged over it in order, tables deeply, later values winning.
/// </summary>
internal sealed class ContainerdConfigFile
{
    private ContainerdConfigFile(TomlTable document, IReadOnlyList<string> files)
    {
        Document = document;
        Files = files;
    }

    /// <summary>The merged document.</summary>
    public TomlTable Document { get; }

    /// <summary>The files read: the main file first, then the imports.</summary>
    public IReadOnlyList<string> Files { get; }

    /// <summary><c>version</c>: 1 when absent (containerd's default), 2 for containerd 1.x layouts, 3 for containerd 2.x.</summary>
    public long Version => Get("version") is long v ? v : 1;

    /// <summary>Reads <paramref name="path"/> and its imports; throws <see cref="TomlException"/> or <see cref="IOException"/> naming the file.</summary>
    public static ContainerdConfigFile Load(string path)
    {
        var document = Parse(path);
        var files = new List<string> { path };
        if (document.TryGetValue("imports", out var imports) && imports is TomlArray list)
        {
            var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
            foreach (var pattern in list.OfType<string>())
            {
                foreach (var file in Expand(Path.Combine(directory, pattern)))
                {
                    Merge(document, Parse(file));
                    files.Add(file);
                }
            }
        }

        return new ContainerdConfigFile(document, files);
    }

    /// <summary>The value at <paramref name="keys"/> (table by table), or null.</summary>
    public object? Get(params string[] keys)
    {
        object? current = Document;
        foreach (var key in keys)
        {
            if (current is not TomlTable table || !table.TryGetValue(key, out current))
            {
                return null;
            }
        }

        return current;
    }

    private static TomlTable Parse(string path)
    {
        var text = File.ReadAllText(path);
        return TomlSerializer.Deserialize<TomlTable>(text, new TomlSerializerOptions { SourceName = path }) ?? new TomlTable();
    }

    private static IEnumerable<string> Expand(string pattern)
    {
        var directory = Path.GetDirectoryName(pattern)!;
        var name = Path.GetFileName(pattern);
        if (!name.Contains('*') && !name.Contains('?'))
        {
            return File.Exists(pattern) ? [pattern] : [];
        }

        // containerd expands imports with filepath.Glob, whose matches are sorted.
        return Directory.Exists(directory) ? Directory.GetFiles(directory, name).Order(StringComparer.Ordinal) : [];
    }

    private static void Merge(TomlTable into, TomlTable from)
    {
        foreach (var (key, value) in from)
        {
            if (value is TomlTable table && into.TryGetValue(key, out var existing) && existing is TomlTable target)
            {
                Merge(target, table);
            }
            else
            {
                into[key] = value;
            }
        }
    }
}
