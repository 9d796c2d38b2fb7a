namespace Snapshotter.KernelTests.Containerd;

/// <summary>One line of <c>/proc/self/mountinfo</c>: where, what type, from which source, with which options.</summary>
internal sealed record MountInfo(string MountPoint, string FsType, string Source, string SuperOptions)
{
    public static IReadOnlyList<MountInfo> Read()
    {
        var mounts = new List<MountInfo>();
        foreach (var line in File.ReadAllLines("/proc/self/mountinfo"))
        {
            // id parent major:minor root mountpoint options [optional...] - fstype source superoptions
            var fields = line.Split(' ');
            var dash = Array.IndexOf(fields, "-");
            if (dash < 0 || fields.Length < dash + 4)
            {
                continue;
            }

            mounts.Add(new MountInfo(Unescape(fields[4]), fields[dash + 1], Unescape(fields[dash + 2]), Unescape(fields[dash + 3])));
        }

        return mounts;
    }

    /// <summary>Mounts at or below <paramref name="directory"/>.</summary>
    public static IReadOnlyList<MountInfo> Under(string directory)
    {
        var prefix = directory.TrimEnd('/') + "/";
        return Read().Where(m => m.MountPoint == directory || m.MountPoint.StartsWith(prefix, StringComparison.Ordinal)).ToList();
    }

    public override string ToString() => $"{FsType} {Source} on {MountPoint} ({SuperOptions})";

    // The kernel writes space, tab, newline and backslash in octal (\040 ...).
    private static string Unescape(string field) =>
        field.Replace("\\040", " ", StringComparison.Ordinal).Replace("\\011", "\t", StringComparison.Ordinal)
            .Replace("\\012", "\n", StringComparison.Ordinal).Replace("\\134", "\\", StringComparison.Ordinal);
}
