using System.Diagnostics.Metrics;

namespace Snapshotter.Telemetry;

/// <summary>Every HTTP answer the registry client got (all hosts), and the body bytes it read.</summary>
public sealed partial class SnapshotterMetrics
{
    // 1xx..5xx by hundreds, and "error": no answer (connection refused, reset, timeout, TLS).
    private static readonly KeyValuePair<string, object?>[] StatusClassTags =
        [new("status_class", "1xx"), new("status_class", "2xx"), new("status_class", "3xx"), new("status_class", "4xx"), new("status_class", "5xx"), new("status_class", "error")];

    private readonly long[] _registryRequests = new long[StatusClassTags.Length];
    private long _registryBytes;

    /// <summary>Body bytes read from registries.</summary>
    public long RegistryFetchedByteCount => Volatile.Read(ref _registryBytes);

    /// <summary>Answers with HTTP status <paramref name="status"/> (100..599), or 0 for a request that got no answer.</summary>
    public long RegistryRequestCountOf(int status) => Volatile.Read(ref _registryRequests[StatusClass(status)]);

    /// <summary>One answer with HTTP <paramref name="status"/>, or 0 for a request that failed without one.</summary>
    public void RecordRegistryResponse(int status) => Interlocked.Increment(ref _registryRequests[StatusClass(status)]);

    /// <summary>Body bytes read from a registry answer.</summary>
    public void RecordRegistryBytes(long bytes) => Interlocked.Add(ref _registryBytes, bytes);

    private static int StatusClass(int status) => status is >= 100 and < 600 ? (status / 100) - 1 : StatusClassTags.Length - 1;

    private void CreateRegistryInstruments()
    {
        _meter.CreateObservableCounter(MetricNames.RegistryRequests, ObserveRegistryRequests, "{request}", "registry answers by status class (error: none)");
        _meter.CreateObservableCounter(MetricNames.RegistryFetched, () => Volatile.Read(ref _registryBytes), "By", "body bytes read from registries");
    }

    private IEnumerable<Measurement<long>> ObserveRegistryRequests()
    {
        var result = new List<Measurement<long>>(StatusClassTags.Length);
        for (var i = 0; i < StatusClassTags.Length; i++)
        {
            var value = Volatile.Read(ref _registryRequests[i]);
            if (value > 0)
            {
                result.Add(new Measurement<long>(value, StatusClassTags[i]));
            }
        }

        return result;
    }
}
