namespace Snapshotter.Tests.Hosting;

/// <summary>One sample of the Prometheus text exposition format.</summary>
/// <param name="Name">The series name (<c>snapshotter_read_requests_total</c>).</param>
/// <param name="Labels">Its labels.</param>
/// <param name="Value">Its value.</param>
internal sealed record MetricSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);
