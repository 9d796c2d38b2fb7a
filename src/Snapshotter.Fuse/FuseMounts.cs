using System.Text;
using Microsoft.Extensions.Logging;
using Snapshotter.Fuse.Interop;

namespace Snapshotter.Fuse;

/// <summary>
/// Finds and removes FUSE mounts left behind by a server that died (the kernel aborted the connection when the
/// server's last device fd closed; the mount then reports ENOTCONN), so a restarted daemon can mount again in the
/// same place. Detection uses statvfs(2): stat(2) of the mount root can be answered from the attribute cache.
/// </summary>
public static class FuseMounts
{
    /// <summary>
    /// FUSE mounts (type fuse or fuse.*) at or under <paramref name="directory"/> whose server is gone, deepest
    /// first. Reads /proc/self/mountinfo (<paramref name="mountInfoPath"/>) and stats each candidate.
    /// </summary>
    public static IReadOnlyList<string> FindStale(string directory, string mountInfoPath = "/proc/self/mountinfo")
    {
        var stale = new List<string>();
        foreach (var (mountPoint, _) in FuseMountsUnder(directory, mountInfoPath))
        {
            if (IsStale(mountPoint))
            {
                stale.Add(mountPoint);
            }
        }

        return stale;
    }

    /// <summary>Whether <paramref name="path"/> is a FUSE mount without a server (statvfs or stat fail with ENOTCONN).</summary>
    public static bool IsStale(string path) => Syscalls.StatVfs(path) == -Errno.ENOTCONN || Syscalls.Stat(path, out _) == -Errno.ENOTCONN;

    /// <summary>Detaches (MNT_DETACH) every stale FUSE mount at or under <paramref name="directory"/>; returns how many.</summary>
    public static int CleanStale(string directory, ILogger logger, string mountInfoPath = "/proc/self/mountinfo")
    {
        var cleaned = 0;
        foreach (var (mountPoint, fsType) in FuseMountsUnder(directory, mountInfoPath))
        {
            if (!IsStale(mountPoint))
            {
                continue;
            }

            var result = MountCalls.Unmount(mountPoint, detach: true);
            if (result == 0)
            {
                cleaned++;
                Log.StaleMountDetached(logger, mountPoint, fsType);
            }
            else
            {
                Log.StaleMountDetachFailed(logger, mountPoint, Errno.Describe(result));
            }
        }

        return cleaned;
    }

    /// <summary>FUSE mounts listed in a mountinfo file at or under a directory, deepest first.</summary>
    internal static List<(string MountPoint, string FsType)> FuseMountsUnder(string directory, string mountInfoPath)
    {
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        var found = new List<(string, string)>();
        foreach (var line in File.ReadLines(mountInfoPath))
        {
            // mountinfo: id parent major:minor root mount-point options [optional...] - fstype source super-options
            var fields = line.Split(' ');
            var separator = Array.IndexOf(fields, "-");
            if (fields.Length < 5 || separator < 0 || separator + 1 >= fields.Length)
            {
                continue;
            }

            var fsType = fields[separator + 1];
            if (fsType != "fuse" && !fsType.StartsWith("fuse.", StringComparison.Ordinal))
            {
                continue;
            }

            var mountPoint = Unescape(fields[4]);
            if (mountPoint == root || mountPoint.StartsWith(root + "/", StringComparison.Ordinal) || root == "/")
            {
                found.Add((mountPoint, fsType));
            }
        }

        found.Sort(static (a, b) => b.Item1.Length.CompareTo(a.Item1.Length));
        return found;
    }

    /// <summary>Undoes mountinfo's octal escapes (\040 space, \011 tab, \012 newline, \134 backslash).</summary>
    internal static string Unescape(string field)
    {
        if (!field.Contains('\\'))
        {
            return field;
        }

        var bytes = new List<byte>(field.Length);
        var raw = Encoding.UTF8.GetBytes(field);
        for (var i = 0; i < raw.Length; i++)
        {
            if (raw[i] == '\\' && i + 3 < raw.Length && IsOctal(raw[i + 1]) && IsOctal(raw[i + 2]) && IsOctal(raw[i + 3]))
            {
                bytes.Add((byte)(((raw[i + 1] - '0') << 6) | ((raw[i + 2] - '0') << 3) | (raw[i + 3] - '0')));
                i += 3;
            }
            else
            {
                bytes.Add(raw[i]);
            }
        }

        return Encoding.UTF8.GetString([.. bytes]);
    }

    private static bool IsOctal(byte b) => b is >= (byte)'0' and <= (byte)'7';
}
