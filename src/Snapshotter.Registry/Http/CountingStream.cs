using Snapshotter.Oci;
using Snapshotter.Telemetry;

namespace Snapshotter.Registry.Http;

/// <summary>A read-only pass-through over a response body that counts the bytes read into the metrics.</summary>
internal sealed class CountingStream(Stream inner, SnapshotterMetrics metrics) : ReadThroughStream(inner)
{
    protected override void OnRead(int count) => metrics.RecordRegistryBytes(count);
}
