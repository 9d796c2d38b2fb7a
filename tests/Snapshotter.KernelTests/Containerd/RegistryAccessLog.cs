using System.Globalization;
using System.Text.RegularExpressions;

namespace Snapshotter.KernelTests.Containerd;

/// <summary>
/// Reads docker-registry's access log (Apache combined format, one line per finished request):
/// <c>127.0.0.1 - - [date] "GET /v2/repo/blobs/sha256:... HTTP/1.1" 206 1048576 "" "agent"</c>. The size is the body
/// bytes the registry wrote, so summing it per blob is the registry's own count of what it served.
/// </summary>
internal static partial class RegistryAccessLog
{
    /// <summary>Body bytes the registry sent for blob <paramref name="digest"/> (GET, any repository) in <paramref name="lines"/>.</summary>
    public static long BlobBytesServed(IEnumerable<string> lines, string digest) =>
        Requests(lines).Where(r => r.Method == "GET" && r.Path.EndsWith("/blobs/" + digest, StringComparison.Ordinal)).Sum(r => r.Bytes);

    /// <summary>The GET requests of blob <paramref name="digest"/>, for diagnostics.</summary>
    public static IEnumerable<string> BlobRequests(IEnumerable<string> lines, string digest) =>
        lines.Where(l => Line().IsMatch(l) && l.Contains("/blobs/" + digest, StringComparison.Ordinal));

    private static IEnumerable<(string Method, string Path, int Status, long Bytes)> Requests(IEnumerable<string> lines)
    {
        foreach (var line in lines)
        {
            var match = Line().Match(line);
            if (match.Success)
            {
                var bytes = match.Groups["size"].Value == "-" ? 0 : long.Parse(match.Groups["size"].Value, CultureInfo.InvariantCulture);
                yield return (match.Groups["method"].Value, match.Groups["path"].Value, int.Parse(match.Groups["status"].Value, CultureInfo.InvariantCulture), bytes);
            }
        }
    }

    [GeneratedRegex("""^\S+ \S+ \S+ \[[^\]]+\] "(?<method>[A-Z]+) (?<path>\S+) [^"]*" (?<status>\d{3}) (?<size>\d+|-)""")]
    private static partial Regex Line();
}
