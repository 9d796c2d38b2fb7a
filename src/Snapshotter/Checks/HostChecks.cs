using System.Globalization;
using Snapshotter.Checks.Interop;

namespace Snapshotter.Checks;

/// <summary>The kernel and the process: version, privileges, the filesystems the kernel lists.</summary>
internal static class HostChecks
{
    /// <summary>Capabilities serve uses: mounts (SYS_ADMIN), unpacking layers as their owners (CHOWN, FOWNER, DAC_OVERRIDE), whiteouts (MKNOD).</summary>
    private static readonly (int Bit, string Name)[] Needed =
    [
        (21, "CAP_SYS_ADMIN"), (0, "CAP_CHOWN"), (1, "CAP_DAC_OVERRIDE"), (3, "CAP_FOWNER"), (27, "CAP_MKNOD"),
    ];

    /// <summary>The kernel release, as <c>uname -r</c> prints it.</summary>
    public static CheckResult Kernel()
    {
        var release = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        return CheckResult.Ok("kernel", $"Linux {release} (cachefiles on-demand needs 5.19+, shared domains 6.1+; EROFS from regular files 6.12+)");
    }

    /// <summary>Root, or at least the capabilities serve needs (from <c>CapEff</c> in /proc/self/status).</summary>
    public static CheckResult Privileges()
    {
        var uid = CheckCalls.EffectiveUserId;
        var effective = EffectiveCapabilities();
        var missing = Needed.Where(c => (effective >> c.Bit & 1) == 0).Select(c => c.Name).ToList();
        var who = uid == 0 ? "running as root (uid 0)" : $"running as uid {uid}";
        return missing.Count == 0
            ? CheckResult.Ok("privileges", $"{who} with {string.Join(", ", Needed.Select(c => c.Name))}")
            : CheckResult.Fail(
                "privileges",
                $"{who} without {string.Join(", ", missing)}: serve cannot mount filesystems or unpack layers",
                "run the snapshotter as root (the systemd unit and the DaemonSet in deploy/ do), with all capabilities");
    }

    /// <summary>Whether <paramref name="name"/> is listed in /proc/filesystems (modules not loaded yet are not).</summary>
    public static bool KernelLists(string name) =>
        File.ReadLines("/proc/filesystems").Any(line => line.Split('\t', StringSplitOptions.TrimEntries).LastOrDefault() == name);

    private static ulong EffectiveCapabilities()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("CapEff:", StringComparison.Ordinal))
            {
                return ulong.Parse(line["CapEff:".Length..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }
}
