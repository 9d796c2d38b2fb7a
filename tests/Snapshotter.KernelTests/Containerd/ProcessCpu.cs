using System.Globalization;

namespace Snapshotter.KernelTests.Containerd;

/// <summary>CPU time a process has used (user + system, from <c>/proc/PID/stat</c>): where the emulated CPU goes.</summary>
internal static class ProcessCpu
{
    // USER_HZ: the unit of utime/stime, 100 on every Linux architecture the project runs on.
    private const double TicksPerSecond = 100;

    public static double Seconds(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");

            // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
        }
        catch (IOException)
        {
            return double.NaN;
        }
    }
}
