using System.Diagnostics.Metrics;

namespace Snapshotter.Telemetry;

/// <summary>Snapshot calls as containerd makes them (recorded by the gRPC edge).</summary>
public sealed partial class SnapshotterMetrics
{
    public const string SnapshotOperations = "snapshotter.snapshot.operations";
    public const string SnapshotOperationDuration = "snapshotter.snapshot.operation.duration";

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
        _operations = _meter.CreateCounter<long>(SnapshotOperations, "{operation}", "snapshot calls by RPC name and result");
        _operationDuration = _meter.CreateHistogram(SnapshotOperationDuration, "s", "time to serve a snapshot call", tags: null, DurationAdvice);
    }
}
