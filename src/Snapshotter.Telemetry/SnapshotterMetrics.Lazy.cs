using System.Diagnostics.Metrics;

namespace Snapshotter.Telemetry;

/// <summary>
/// State that lives in higher layers (mounted images per mode, fallbacks per reason, per-image bytes, cache disk use):
/// observed through sources the host attaches once it has built them.
/// </summary>
public sealed partial class SnapshotterMetrics
{
    private Histogram<double> _mountDuration = null!;
    private volatile Func<IEnumerable<Measurement<long>>>? _imagesMounted;
    private volatile Func<IEnumerable<Measurement<long>>>? _fallbacks;
    private volatile Func<IEnumerable<Measurement<long>>>? _imageFetched;
    private volatile Func<IEnumerable<Measurement<long>>>? _imageRead;
    private volatile Func<long>? _cacheDisk;

    /// <summary>Lazy images mounted now, by <c>mode</c>.</summary>
    public void ObserveImagesMounted(Func<IEnumerable<Measurement<long>>> source) => _imagesMounted = source;

    /// <summary>Fallbacks to the ordinary path, by <c>reason</c>.</summary>
    public void ObserveFallbacks(Func<IEnumerable<Measurement<long>>> source) => _fallbacks = source;

    /// <summary>Stored bytes fetched and bytes read for each mounted image, by <c>image</c> (bounded by the mounted images).</summary>
    public void ObserveImages(Func<IEnumerable<Measurement<long>>> fetched, Func<IEnumerable<Measurement<long>>> read)
    {
        _imageFetched = fetched;
        _imageRead = read;
    }

    /// <summary>Bytes the lazy cache occupies on disk.</summary>
    public void ObserveCacheDisk(Func<long> source) => _cacheDisk = source;

    /// <summary>One lazy image mounted (its first container's Prepare waited this long), by <c>mode</c>.</summary>
    public void RecordMount(string mode, double seconds) => _mountDuration.Record(seconds, new KeyValuePair<string, object?>("mode", mode));

    private void CreateLazyInstruments()
    {
        _meter.CreateObservableGauge(MetricNames.LazyImagesMounted, () => _imagesMounted?.Invoke() ?? [], "{image}", "lazily pulled images mounted now, by mode");
        _meter.CreateObservableCounter(MetricNames.LazyFallbacks, () => _fallbacks?.Invoke() ?? [], "{fallback}", "layers or images that fell back to the ordinary path, by reason");
        _meter.CreateObservableGauge(MetricNames.ImageFetched, () => _imageFetched?.Invoke() ?? [], "By", "stored bytes fetched for a mounted image's blobs, by image");
        _meter.CreateObservableGauge(MetricNames.ImageRead, () => _imageRead?.Invoke() ?? [], "By", "bytes read from a mounted image's blobs, by image");
        _meter.CreateObservableGauge(MetricNames.CacheDisk, () => _cacheDisk is { } source ? source() : 0L, "By", "bytes the lazy cache occupies on disk");
        _mountDuration = _meter.CreateHistogram(MetricNames.LazyMountDuration, "s", "time to mount a lazy image at its first container", tags: null, DurationAdvice);
    }
}
