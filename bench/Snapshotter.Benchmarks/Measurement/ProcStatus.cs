using System.Globalization;

namespace Snapshotter.Benchmarks.Measurement;

/// <summary>Reads process and machine facts from /proc.</summary>
internal static class ProcStatus
{
    /// <summary>Resident set size in KiB (<c>VmRSS</c> of /proc/PID/status).</summary>
    public static long VmRssKiB(int pid)
    {
        foreach (string line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"/proc/{pid}/status has no VmRSS");
    }

    public static string CpuModel() =>
        File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";

    public static string Kernel() => File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
}
