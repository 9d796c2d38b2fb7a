using Snapshotter.IntegrationTests.Interop;
using Tmds.Linux;

namespace Snapshotter.IntegrationTests.Fixtures;

/// <summary>Reads /proc/self/mountinfo and lazily unmounts whatever a test left under a directory.</summary>
internal static class Mounts
{
    /// <summary>Mount points at or below <paramref name="root"/>, deepest first.</summary>
    public static IReadOnlyList<string> Under(string root) => EntriesUnder(root).Select(e => e.MountPoint).ToList();

    /// <summary>The mounts at or below <paramref name="root"/> with their file system type, source and options, deepest first.</summary>
    public static IReadOnlyList<MountEntry> EntriesUnder(string root)
    {
        string prefix = root.TrimEnd('/') + "/";
        var result = new List<MountEntry>();
        foreach (string line in File.ReadLines("/proc/self/mountinfo"))
        {
            // Field 5 is the mount point, with spaces etc. octal-escaped (\040); after the " - " separator come the
            // file system type, the source and the super block options.
            string[] fields = line.Split(' ');
            int separator = Array.IndexOf(fields, "-");
            if (fields.Length < 5 || separator < 0 || separator + 3 >= fields.Length)
            {
                continue;
            }

            string mountPoint = Unescape(fields[4]);
            if (mountPoint == root.TrimEnd('/') || mountPoint.StartsWith(prefix, StringComparison.Ordinal))
            {
                result.Add(new MountEntry(mountPoint, fields[separator + 1], Unescape(fields[separator + 2]), Unescape(fields[separator + 3])));
            }
        }

        return result.OrderByDescending(m => m.MountPoint.Length).ToList();
    }

    /// <summary>Detaches every mount under <paramref name="root"/> (best effort, repeated for stacked mounts).</summary>
    public static void UnmountAll(string root)
    {
        for (int pass = 0; pass < 5; pass++)
        {
            var mounts = Under(root);
            if (mounts.Count == 0)
            {
                return;
            }

            foreach (string m in mounts)
            {
                int errno = TestLibc.DetachMount(m);
                if (errno != 0 && errno != LibC.EINVAL && errno != LibC.ENOENT)
                {
                    Console.Error.WriteLine($"[fixture] umount2({m}, MNT_DETACH) failed with errno {errno}");
                }
            }
        }
    }

    private static string Unescape(string s)
    {
        if (!s.Contains('\\'))
        {
            return s;
        }

        var sb = new System.Text.StringBuilder(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\' && i + 3 < s.Length)
            {
                sb.Append((char)Convert.ToInt32(s.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                sb.Append(s[i]);
            }
        }

        return sb.ToString();
    }
}
