using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Snapshotter.Hosting;

/// <summary>
/// OpenTelemetry on the host: the service's meter plus .NET runtime and process metrics exported for Prometheus at
/// <c>/metrics</c>, spans exported over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, and the sources of the
/// values that live in the lazy-image layers.
/// </summary>
internal static class TelemetrySetup
{
    public const string OtlpEndpointEnv = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>The OpenTelemetry <c>service.name</c> unless <c>OTEL_SERVICE_NAME</c> sets one.</summary>
    public const string ServiceName = "containerd-lazy-snapshotter";

    public static void Configure(IServiceCollection services, bool exportMetrics)
    {
        var otel = services.AddOpenTelemetry();
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OTEL_SERVICE_NAME")))
        {
            // Names the process in spans and in the target_info series (the SDK's default is unknown_service:dotnet).
            otel.ConfigureResource(r => r.AddService(ServiceName));
        }

        if (exportMetrics)
        {
            otel.WithMetrics(m => m
                .AddMeter(SnapshotterMetrics.MeterName)
                .AddRuntimeInstrumentation()
                // Prometheus reserves _count for histograms and summaries (promtool check metrics flags these gauges).
                .AddView("dotnet.assembly.count", "dotnet.assemblies")
                .AddView("dotnet.process.cpu.count", "dotnet.process.cpus")
                .AddView("dotnet.timer.count", "dotnet.timers")
                // Every scrape is collected afresh: the exporter's default 300 ms response cache answered a scrape right
                // after a call with the text of the scrape before it (a dashboard or test then misses that call).
                // Collecting costs ~5-8 ms here, and Prometheus scrapes every 15-30 s.
                .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0));
        }

        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable(OtlpEndpointEnv)))
        {
            // The exporter reads the endpoint, headers and protocol from the standard OTEL_EXPORTER_OTLP_* variables.
            otel.WithTracing(t => t.AddSource(SnapshotterActivities.SourceName).AddOtlpExporter());
        }
    }

    /// <summary>Maps <c>/metrics</c> and <c>/healthz</c> on the metrics listener only (never on the gRPC socket).</summary>
    public static void MapEndpoints(WebApplication app, Func<bool> ready)
    {
        app.MapPrometheusScrapingEndpoint(
            "/metrics",
            meterProvider: null,
            configureBranchedPipeline: b => b.Use((context, next) => OnMetricsListener(context) ? next(context) : NotFound(context)),
            optionsName: null);
        app.MapGet("/healthz", (HttpContext context) => !OnMetricsListener(context) ? Results.NotFound()
            : ready() ? Results.Text("ok\n") : Results.Text("starting\n", statusCode: StatusCodes.Status503ServiceUnavailable));
    }

    // The metrics listener is the only TCP one; unix-socket connections have no IP address. Matching the Host header's
    // port instead broke port 0 (the configured port is not the bound one) and scrapes through a forwarded port.
    private static bool OnMetricsListener(HttpContext context) => context.Connection.LocalIpAddress is not null;

    private static Task NotFound(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status404NotFound;
        return Task.CompletedTask;
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
