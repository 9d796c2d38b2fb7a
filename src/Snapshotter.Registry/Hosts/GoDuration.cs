using System.Globalization;

namespace Snapshotter.Registry.Hosts;

/// <summary>
/// Go's <c>time.ParseDuration</c> syntax, which containerd's hosts.toml <c>dial_timeout</c> uses: a sequence of
/// decimal numbers with units <c>ns</c>, <c>us</c>/<c>µs</c>, <c>ms</c>, <c>s</c>, <c>m</c>, <c>h</c>
/// (<c>"300ms"</c>, <c>"1.5s"</c>, <c>"1m30s"</c>), or <c>"0"</c>.
/// </summary>
internal static class GoDuration
{
    public static bool TryParse(string text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        ReadOnlySpan<char> rest = text;
        bool negative = rest.Length > 0 && rest[0] == '-';
        if (rest.Length > 0 && rest[0] is '-' or '+')
        {
            rest = rest[1..];
        }

        if (rest is "0")
        {
            return true;
        }

        double nanoseconds = 0;
        do
        {
            int digits = rest.IndexOfAnyExcept("0123456789.");
            int unitLength = digits < 0 ? 0 : rest[digits..].IndexOfAny("0123456789.");
            unitLength = unitLength < 0 ? rest.Length - digits : unitLength;
            if (digits <= 0 || !double.TryParse(rest[..digits], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double number))
            {
                return false;
            }

            double unit = rest.Slice(digits, unitLength) switch
            {
                "ns" => 1,
                "us" or "\u00b5s" or "\u03bcs" => 1e3,
                "ms" => 1e6,
                "s" => 1e9,
                "m" => 60e9,
                "h" => 3600e9,
                _ => 0,
            };
            if (unit == 0)
            {
                return false;
            }

            nanoseconds += number * unit;
            rest = rest[(digits + unitLength)..];
        }
        while (!rest.IsEmpty);

        double ticks = nanoseconds / 100;
        if (ticks >= TimeSpan.MaxValue.Ticks)
        {
            return false;
        }

        value = TimeSpan.FromTicks((long)(negative ? -ticks : ticks));
        return true;
    }
}
