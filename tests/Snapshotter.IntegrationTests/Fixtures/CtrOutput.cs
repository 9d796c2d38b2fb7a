using System.Text.Json;

namespace Snapshotter.IntegrationTests.Fixtures;

/// <summary>Parsers for what <c>ctr snapshots</c> prints (JSON for info/mounts, tables for ls/usage).</summary>
public static class CtrOutput
{
    /// <summary>The JSON array <c>prepare --mounts</c> / <c>view --mounts</c> print.</summary>
    public static IReadOnlyList<CtrMount> Mounts(string stdout)
    {
        using var doc = JsonDocument.Parse(stdout);
        return doc.RootElement.EnumerateArray().Select(m => new CtrMount(
            m.GetProperty("Type").GetString()!,
            m.GetProperty("Source").GetString()!,
            m.TryGetProperty("Options", out var o) && o.ValueKind == JsonValueKind.Array ? o.EnumerateArray().Select(x => x.GetString()!).ToList() : [])).ToList();
    }

    /// <summary>The JSON object <c>info</c> prints (containerd's snapshots.Info field names).</summary>
    public static CtrInfo Info(string stdout)
    {
        using var doc = JsonDocument.Parse(stdout);
        var r = doc.RootElement;
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (r.TryGetProperty("Labels", out var l) && l.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in l.EnumerateObject())
            {
                labels[p.Name] = p.Value.GetString()!;
            }
        }

        return new CtrInfo(
            r.GetProperty("Name").GetString()!,
            r.TryGetProperty("Parent", out var parent) ? parent.GetString() : null,
            r.GetProperty("Kind").GetString()!,
            labels,
            r.GetProperty("Created").GetDateTimeOffset(),
            r.GetProperty("Updated").GetDateTimeOffset());
    }

    /// <summary>The rows of <c>ls</c> (KEY PARENT KIND; PARENT may be empty).</summary>
    public static IReadOnlyList<CtrLsRow> Ls(string stdout)
    {
        var rows = new List<CtrLsRow>();
        foreach (string line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1))
        {
            string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            rows.Add(f.Length switch
            {
                2 => new CtrLsRow(f[0], "", f[1]),
                3 => new CtrLsRow(f[0], f[1], f[2]),
                _ => throw new FormatException($"unexpected ctr snapshots ls line: '{line}'"),
            });
        }

        return rows;
    }

    /// <summary>The rows of <c>usage -b</c>: key -> (bytes, inodes).</summary>
    public static IReadOnlyDictionary<string, (long Size, long Inodes)> Usage(string stdout)
    {
        var result = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
        foreach (string line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1))
        {
            string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length != 3)
            {
                throw new FormatException($"unexpected ctr snapshots usage -b line: '{line}'");
            }

            result[f[0]] = (long.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture), long.Parse(f[2], System.Globalization.CultureInfo.InvariantCulture));
        }

        return result;
    }
}
