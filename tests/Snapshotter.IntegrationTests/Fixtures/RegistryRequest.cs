using System.Globalization;
using System.Text.RegularExpressions;

namespace Snapshotter.IntegrationTests.Fixtures;

/// <summary>
/// One line of docker-registry's access log (Apache combined format, written by the registry itself): what was asked,
/// the status, the body bytes it sent and who asked (containerd and our service send different user agents).
/// </summary>
public sealed partial record RegistryRequest(string Method, string Path, int Status, long Bytes, string UserAgent)
{
    /// <summary>The blob digest of a <c>/v2/&lt;name&gt;/blobs/&lt;digest&gt;</c> request, else null.</summary>
    public string? BlobDigest => BlobPath().Match(Path) is { Success: true } m ? m.Groups[1].Value : null;

    /// <summary>Parses an access log line; null for any other line (the registry's own log messages).</summary>
    public static RegistryRequest? TryParse(string line)
    {
        var m = AccessLine().Match(line);
        if (!m.Success)
        {
            return null;
        }

        long bytes = long.TryParse(m.Groups["bytes"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out long b) ? b : 0;
        return new RegistryRequest(
            m.Groups["method"].Value,
            m.Groups["path"].Value,
            int.Parse(m.Groups["status"].Value, CultureInfo.InvariantCulture),
            bytes,
            m.Groups["agent"].Value);
    }

    // 127.0.0.1 - - [01/Dec/2026:12:36:12 +0000] "GET /v2/test/app/blobs/sha256:... HTTP/1.1" 206 537578 "" "containerd/1.6.20+unknown"
    [GeneratedRegex("""^\S+ \S+ \S+ \[[^\]]*\] "(?<method>[A-Z]+) (?<path>\S+) HTTP/[0-9.]+" (?<status>\d{3}) (?<bytes>\d+|-) "[^"]*" "(?<agent>[^"]*)"$""")]
    private static partial Regex AccessLine();

    [GeneratedRegex("""^/v2/.+/blobs/(sha256:[0-9a-f]{64})(?:\?.*)?$""")]
    private static partial Regex BlobPath();
}
