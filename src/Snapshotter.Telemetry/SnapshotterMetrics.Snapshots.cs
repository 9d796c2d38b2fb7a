using System.Diagnostics.Metrics;

namespace Snapshotter.Telemetry;

/// <summary>Snapshot calls as containerd makes them (recorded by the gRPC edge).</summary>
public sealed partial class SnapshotterMetrics
{
    private Counter<long> _operations = null!;
    private Histogram<double> _operationDuration = null!;

    /// <summary>
    /// One snapshot call: <paramref name="operation"/> is the RPC name as containerd calls it (<c>Prepare</c>,
    /// <c>Stat</c>, ...), <paramref name="result"/> <c>ok</c> or the gRPC status in snake case (<c>not_found</c>, ...).
    /// </summary>
    public void RecordOperation(string operation, string result, double seconds)
    {
        _operations.Add(1, new KeyValuePair<string, object?>("operation", operation), new KeyValuePair<string, object?>("result", result));
        _operationDuration.Record(seconds, new KeyValuePair<string, object?>("operation", operation));
    }

    private void CreateSnapshotInstruments()
    {
        _operations = _meter.CreateCounter<long>(MetricNames.SnapshotOperations, "{operation}", "snapshot calls by RPC name and result");
        _operationDuration = _meter.CreateHistogram(MetricNames.SnapshotOperationDuration, "s", "time to serve a snapshot call", tags: null, DurationAdvice);
    }
}
