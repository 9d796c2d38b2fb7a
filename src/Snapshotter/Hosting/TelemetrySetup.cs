using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Snapshotter.Core.Remote;
using Snapshotter.Lazy;
using Snapshotter.Telemetry;

namespace Snapshotter.Hosting;

/// <summary>
/// OpenTelemetry on the host: the service's meter plus .NET runtime and process metrics exported for Prometheus at
/// <c>/metrics</c>, spans exported over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, and the sources of the
/// values that live in the lazy-image layers.
/// </summary>
internal static class TelemetrySetup
{
    public const string OtlpEndpointEnv = "OTEL_EXPORTER_OTLP_ENDPOINT";

    public static void Configure(IServiceCollection services, bool exportMetrics)
    {
        var otel = services.AddOpenTelemetry();
        if (exportMetrics)
        {
            otel.WithMetrics(m => m
                .AddMeter(SnapshotterMetrics.MeterName)
                .AddRuntimeInstrumentation()
                .AddPrometheusExporter());
        }

        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable(OtlpEndpointEnv)))
        {
            // The exporter reads the endpoint, headers and protocol from the standard OTEL_EXPORTER_OTLP_* variables.
            otel.WithTracing(t => t.AddSource(SnapshotterActivities.SourceName).AddOtlpExporter());
        }
    }

    /// <summary>Maps <c>/metrics</c> and <c>/healthz</c> on the metrics endpoint's port only (never on the gRPC socket).</summary>
    public static void MapEndpoints(WebApplication app, int port, Func<bool> ready)
    {
        app.MapPrometheusScrapingEndpoint("/metrics").RequireHost($"*:{port}");
        app.MapGet("/healthz", () => ready() ? Results.Text("ok\n") : Results.Text("starting\n", statusCode: StatusCodes.Status503ServiceUnavailable))
            .RequireHost($"*:{port}");
    }

    /// <summary>Attaches the remote path's counters and the lazy-image component's state to the meter.</summary>
    public static void ObserveRemote(SnapshotterMetrics metrics, RemoteStatistics statistics, LazyFileSystem? lazy)
    {
        var mode = lazy?.Mode ?? "off";
        metrics.ObserveImagesMounted(() => [new Measurement<long>(statistics.Mounted, new KeyValuePair<string, object?>("mode", mode))]);
        metrics.ObserveFallbacks(() => Enum.GetValues<FallbackReason>()
            .Select(r => new Measurement<long>(statistics.Fallbacks(r), new KeyValuePair<string, object?>("reason", ReasonName(r))))
            .ToArray());
        if (lazy is null)
        {
            return;
        }

        metrics.ObserveImages(
            () => lazy.ImageUsage().Select(u => new Measurement<long>(u.FetchedBytes, new KeyValuePair<string, object?>("image", u.ImageRef))).ToArray(),
            () => lazy.ImageUsage().Select(u => new Measurement<long>(u.ReadBytes, new KeyValuePair<string, object?>("image", u.ImageRef))).ToArray());
        metrics.ObserveCacheDisk(lazy.CacheDiskBytes);
    }

    /// <summary>A fallback reason as a label value: <c>MissingLabels</c> -> <c>missing_labels</c>.</summary>
    public static string ReasonName(FallbackReason reason)
    {
        var name = reason.ToString();
        var sb = new System.Text.StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0)
            {
                sb.Append('_');
            }

            sb.Append(char.ToLowerInvariant(name[i]));
        }

        return sb.ToString();
    }
}
