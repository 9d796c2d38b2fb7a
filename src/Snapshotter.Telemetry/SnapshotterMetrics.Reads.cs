using System.Diagnostics.Metrics;

namespace Snapshotter.Telemetry;

/// <summary>Lazy READs from the kernel (cachefiles on-demand or FUSE), the hot path: fields and one histogram.</summary>
public sealed partial class SnapshotterMetrics
{
    private static readonly ReadBackend[] Backends = Enum.GetValues<ReadBackend>();
    private static readonly KeyValuePair<string, object?>[] BackendTags =
        [new("backend", "fscache"), new("backend", "fuse")];

    private readonly long[] _readRequests = new long[Backends.Length];
    private readonly long[] _readBytes = new long[Backends.Length];
    private readonly long[] _readFailures = new long[Backends.Length];
    private Histogram<double> _readDuration = null!;

    /// <summary>READs served, all backends.</summary>
    public long ReadRequestCount => Sum(_readRequests);

    /// <summary>Bytes the kernel asked for, all backends.</summary>
    public long ReadBytesRequestedCount => Sum(_readBytes);

    /// <summary>READs completed without data (the reader got EIO), all backends.</summary>
    public long ReadFailureCount => Sum(_readFailures);

    /// <summary>READs of <paramref name="backend"/>.</summary>
    public long ReadRequestCountOf(ReadBackend backend) => Volatile.Read(ref _readRequests[(int)backend]);

    /// <summary>One READ: <paramref name="bytes"/> asked for, answered after <paramref name="seconds"/>.</summary>
    public void RecordRead(ReadBackend backend, long bytes, double seconds, bool failed)
    {
        var i = (int)backend;
        Interlocked.Increment(ref _readRequests[i]);
        Interlocked.Add(ref _readBytes[i], bytes);
        if (failed)
        {
            Interlocked.Increment(ref _readFailures[i]);
        }

        _readDuration.Record(seconds, BackendTags[i]);
    }

    private void CreateReadInstruments()
    {
        _meter.CreateObservableCounter(MetricNames.ReadRequests, () => PerBackend(_readRequests), "{request}", "READs from the kernel by backend");
        _meter.CreateObservableCounter(MetricNames.ReadBytes, () => PerBackend(_readBytes), "By", "bytes the kernel asked for by backend");
        _meter.CreateObservableCounter(MetricNames.ReadFailures, () => PerBackend(_readFailures), "{request}", "READs answered without data (the reader gets EIO)");
        _readDuration = _meter.CreateHistogram(MetricNames.ReadDuration, "s", "time from a READ's arrival to its answer", tags: null, DurationAdvice);
    }

    private static Measurement<long>[] PerBackend(long[] values)
    {
        var result = new Measurement<long>[Backends.Length];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = new Measurement<long>(Volatile.Read(ref values[i]), BackendTags[i]);
        }

        return result;
    }

    private static long Sum(long[] values)
    {
        long total = 0;
        for (var i = 0; i < values.Length; i++)
        {
            total += Volatile.Read(ref values[i]);
        }

        return total;
    }
}
