namespace Snapshotter.Tests.Hosting;

/// <summary>One series of an instant query's answer.</summary>
/// <param name="Labels">The series' labels (<c>__name__</c> included when the query kept it).</param>
/// <param name="Value">Its value (NaN when Prometheus answered NaN).</param>
internal sealed record PromSeries(IReadOnlyDictionary<string, string> Labels, double Value);
