namespace Snapshotter.Benchmarks.Measurement;

/// <summary>Percentiles (nearest-rank) and mean of a set of latencies, in milliseconds.</summary>
internal readonly record struct LatencySummary(int Count, double P50, double P90, double P99, double Mean)
{
    public static LatencySummary Of(IReadOnlyCollection<double> samples)
    {
        if (samples.Count == 0)
        {
            throw new ArgumentException("no samples", nameof(samples));
        }

        double[] sorted = [.. samples.Order()];
        return new LatencySummary(sorted.Length, Rank(sorted, 0.50), Rank(sorted, 0.90), Rank(sorted, 0.99), sorted.Average());
    }

    private static double Rank(double[] sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}
