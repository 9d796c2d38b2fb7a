using System.Globalization;

namespace Snapshotter.Rpc.Protocol;

/// <summary>
/// The <c>grpc-timeout</c> header: 1 to 8 ASCII digits followed by a unit
/// (H hours, M minutes, S seconds, m milliseconds, u microseconds, n nanoseconds).
/// The server treats a malformed value as an error (INVALID_ARGUMENT), like grpc-go, rather than
/// silently running without the deadline the client asked for.
/// </summary>
internal static class GrpcTimeout
{
    public const string HeaderName = "grpc-timeout";
    private const int MaxDigits = 8;
    private const long MaxValue = 99_999_999;

    public static bool TryParse(ReadOnlySpan<char> value, out TimeSpan timeout)
    {
        timeout = default;
        if (value.Length < 2 || value.Length > MaxDigits + 1)
        {
            return false;
        }

        ReadOnlySpan<char> digits = value[..^1];
        long amount = 0;
        foreach (char c in digits)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }

            amount = (amount * 10) + (c - '0');
        }

        timeout = value[^1] switch
        {
            'H' => TimeSpan.FromHours(amount),
            'M' => TimeSpan.FromMinutes(amount),
            'S' => TimeSpan.FromSeconds(amount),
            'm' => TimeSpan.FromMilliseconds(amount),
            'u' => TimeSpan.FromTicks(amount * 10),
            'n' => TimeSpan.FromTicks(amount / 100),
            _ => TimeSpan.MinValue,
        };
        return timeout != TimeSpan.MinValue;
    }

    /// <summary>Formats a timeout with the finest unit that fits in 8 digits (negative counts as zero).</summary>
    public static string Format(TimeSpan timeout)
    {
        long ticks = Math.Max(0, timeout.Ticks);
        if (ticks / 10 <= MaxValue)
        {
            return (ticks / 10).ToString(CultureInfo.InvariantCulture) + "u";
        }

        long ms = ticks / TimeSpan.TicksPerMillisecond;
        if (ms <= MaxValue)
        {
            return ms.ToString(CultureInfo.InvariantCulture) + "m";
        }

        long s = ticks / TimeSpan.TicksPerSecond;
        if (s <= MaxValue)
        {
            return s.ToString(CultureInfo.InvariantCulture) + "S";
        }

        long m = ticks / TimeSpan.TicksPerMinute;
        if (m <= MaxValue)
        {
            return m.ToString(CultureInfo.InvariantCulture) + "M";
        }

        return Math.Min(ticks / TimeSpan.TicksPerHour, MaxValue).ToString(CultureInfo.InvariantCulture) + "H";
    }
}
