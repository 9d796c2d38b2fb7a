using System.Text;

namespace Snapshotter.Lazy.Tests.Infrastructure;

/// <summary>
/// The host's mount table and loop devices as util-linux and sysfs report them (not through the code under test).
/// </summary>
internal static class HostMounts
{
    /// <summary>The filesystem types mounted on <paramref name="path"/>, lowest first (empty when nothing is).</summary>
    public static IReadOnlyList<string> TypesAt(string path)
    {
        var (code, output, _) = HostTool.TryRun("findmnt", "--noheadings", "--raw", "--output", "FSTYPE", "--mountpoint", Path.GetFullPath(path));
        return code == 0 ? output.Split('\n', StringSplitOptions.RemoveEmptyEntries) : [];
    }

    public static bool IsMounted(string path) => TypesAt(path).Count > 0;

    /// <summary>The mount options of the topmost mount on <paramref name="path"/> (findmnt's VFS and filesystem options), empty when nothing is mounted.</summary>
    public static IReadOnlyList<string> OptionsAt(string path)
    {
        var (code, output, _) = HostTool.TryRun("findmnt", "--noheadings", "--raw", "--output", "OPTIONS", "--mountpoint", Path.GetFullPath(path));
        return code == 0 ? output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1].Split(',') : [];
    }

    /// <summary>Mounts a small tmpfs on <paramref name="path"/> with mount(8).</summary>
    public static void MountTmpfs(string path) => HostTool.Run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", path);

    /// <summary>Mount points at or below <paramref name="root"/>, deepest first (from /proc/self/mountinfo).</summary>
    public static IReadOnlyList<string> MountPointsUnder(string root)
    {
        root = Path.GetFullPath(root).TrimEnd('/');
        return File.ReadLines("/proc/self/mountinfo")
            .Select(line => Unescape(line.Split(' ')[4]))
            .Where(p => p == root || p.StartsWith(root + "/", StringComparison.Ordinal))
            .OrderByDescending(p => p.Length)
            .ToList();
    }

    /// <summary>Lazily unmounts everything at or below <paramref name="root"/> (test cleanup); returns how many.</summary>
    public static int DetachUnder(string root)
    {
        var count = 0;
        for (var round = 0; round < 64; round++)
        {
            var mounts = MountPointsUnder(root);
            if (mounts.Count == 0)
            {
                break;
            }

            foreach (var mount in mounts)
            {
                if (HostTool.TryRun("umount", "-l", mount).ExitCode == 0)
                {
                    count++;
                }
            }
        }

        return count;
    }

    /// <summary>Loop devices with their backing files (<c>/sys/block/loopN/loop/backing_file</c>).</summary>
    public static IReadOnlyList<(string Device, string BackingFile)> LoopDevices()
    {
        var result = new List<(string, string)>();
        foreach (var dir in Directory.EnumerateDirectories("/sys/block", "loop*"))
        {
            var backing = Path.Combine(dir, "loop", "backing_file");
            try
            {
                if (File.Exists(backing))
                {
                    result.Add(("/dev/" + Path.GetFileName(dir), File.ReadAllText(backing).Trim()));
                }
            }
            catch (IOException)
            {
                // Detached between the listing and the read.
            }
        }

        return result;
    }

    /// <summary>Loop devices whose backing file is one of <paramref name="files"/>.</summary>
    public static IReadOnlyList<(string Device, string BackingFile)> LoopDevicesBacking(IEnumerable<string> files)
    {
        var set = files.Select(Path.GetFullPath).ToHashSet(StringComparer.Ordinal);
        return LoopDevices().Where(l => set.Contains(l.BackingFile)).ToList();
    }

    /// <summary>Hard-link count and inode number of <paramref name="path"/> (stat(1)).</summary>
    public static (int Links, long Inode) LinksAndInode(string path)
    {
        var fields = HostTool.Run("stat", "--format", "%h %i", path).Trim().Split(' ');
        return (int.Parse(fields[0], System.Globalization.CultureInfo.InvariantCulture), long.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture));
    }

    // mountinfo writes space, tab, newline and backslash as \ooo.
    private static string Unescape(string field)
    {
        var sb = new StringBuilder(field.Length);
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length && IsOctal(field.AsSpan(i + 1, 3)))
            {
                sb.Append((char)Convert.ToInt32(field.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                sb.Append(field[i]);
            }
        }

        return sb.ToString();
    }

    private static bool IsOctal(ReadOnlySpan<char> s) => s.Length == 3 && s[0] is >= '0' and <= '7' && s[1] is >= '0' and <= '7' && s[2] is >= '0' and <= '7';
}
