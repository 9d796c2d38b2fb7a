using System.Text;
using Snapshotter.Interop;

namespace Snapshotter.Lazy.Mounting;

/// <summary>What is mounted where (<c>/proc/self/mountinfo</c>), and detaching whatever sits on a mount point.</summary>
internal static class MountTable
{
    private const string MountInfo = "/proc/self/mountinfo";

    /// <summary>The filesystem type mounted on <paramref name="path"/> (the topmost mount), or null when nothing is.</summary>
    public static string? FileSystemAt(string path)
    {
        path = Path.GetFullPath(path).TrimEnd('/');
        string? type = null;
        foreach (var line in File.ReadLines(MountInfo))
        {
            // "<id> <parent> <major:minor> <root> <mount point> <options> [optional...] - <type> <source> <super options>"
            var fields = line.Split(' ');
            if (fields.Length < 7 || Unescape(fields[4]).TrimEnd('/') != path)
            {
                continue;
            }

            var separator = Array.IndexOf(fields, "-", 6);
            type = separator > 0 && separator + 1 < fields.Length ? fields[separator + 1] : "unknown";
        }

        return type;
    }

    /// <summary>Detaches every mount stacked on <paramref name="path"/> (lazily: users keep what they hold). Returns how many.</summary>
    public static int DetachAll(string path)
    {
        var count = 0;
        while (count < 32 && MountCalls.Unmount(path, detach: true) == 0)
        {
            count++;
        }

        return count;
    }

    /// <summary>
    /// Unmounts <paramref name="path"/>; when a user still holds it (EBUSY), detaches it instead so that it goes away with
    /// its last user. Returns false when nothing was mounted there.
    /// </summary>
    public static bool Unmount(string path)
    {
        var result = MountCalls.Unmount(path, detach: false);
        if (result == -Errno.EBUSY)
        {
            result = MountCalls.Unmount(path, detach: true);
        }

        return result == 0;
    }

    // mountinfo escapes space, tab, newline and backslash as \ooo.
    private static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
        {
            return field;
        }

        var sb = new StringBuilder(field.Length);
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && IsOctal(field, i + 1))
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

    private static bool IsOctal(string s, int start) =>
        start + 3 <= s.Length && s[start] is >= '0' and <= '7' && s[start + 1] is >= '0' and <= '7' && s[start + 2] is >= '0' and <= '7';
}
