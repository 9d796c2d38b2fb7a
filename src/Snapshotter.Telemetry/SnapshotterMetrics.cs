using System.Diagnostics.Metrics;

namespace Snapshotter.Telemetry;

/// <summary>
/// The one owner of the service's <see cref="Meter"/> (<see cref="MeterName"/>). Every layer records through it: hot
/// paths bump <see cref="Interlocked"/> fields (no allocation, read by observable instruments when an exporter
/// collects) or record into histograms with at most one label from a bounded set; values that live elsewhere (mounted
/// images, fallbacks, cache size) are observed through the sources the host attaches. Instrument names are the
/// constants of <see cref="MetricNames"/>. Thread-safe.
/// </summary>
public sealed partial class SnapshotterMetrics : IDisposable
{
    public const string MeterName = "Snapshotter";

    /// <summary>Latency buckets in seconds: page faults and snapshot calls take 0.1 ms to tens of seconds.</summary>
    public static readonly double[] DurationBucketsSeconds =
        [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    private readonly Meter _meter;

    public SnapshotterMetrics(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        CreateSnapshotInstruments();
        CreateReadInstruments();
        CreateCacheInstruments();
        CreateRegistryInstruments();
        CreateLazyInstruments();
    }

    // Created on first use: the partial files' static tables must be initialized before an instance exists.
    private static readonly Lazy<SnapshotterMetrics> SharedInstance = new(() => new SnapshotterMetrics());

    /// <summary>A process-wide instance for code without dependency injection (the CLI, tests).</summary>
    public static SnapshotterMetrics Shared => SharedInstance.Value;

    public void Dispose() => _meter.Dispose();

    private static InstrumentAdvice<double> DurationAdvice => new() { HistogramBucketBoundaries = DurationBucketsSeconds };
}
