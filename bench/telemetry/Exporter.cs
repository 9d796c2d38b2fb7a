using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using Snapshotter.Telemetry;

/// <summary>The exporter as serve runs it: OpenTelemetry metrics with the Prometheus endpoint on Kestrel, scraped every second.</summary>
internal sealed class Exporter : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _scraper;
    private int _scrapes;

    private Exporter(WebApplication app, string url)
    {
        _app = app;
        _scraper = Task.Run(async () =>
        {
            using var http = new HttpClient();
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    await http.GetStringAsync(url + "/metrics", _stop.Token);
                    Interlocked.Increment(ref _scrapes);
                    await Task.Delay(1000, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        });
    }

    public int Scrapes => Volatile.Read(ref _scrapes);

    public static async Task<Exporter> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddOpenTelemetry().WithMetrics(m => m.AddMeter(SnapshotterMetrics.MeterName).AddPrometheusExporter());
        var app = builder.Build();
        app.MapPrometheusScrapingEndpoint("/metrics");
        await app.StartAsync();
        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new Exporter(app, url);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _scraper;
        await _app.StopAsync();
        await _app.DisposeAsync();
        _stop.Dispose();
    }
}
