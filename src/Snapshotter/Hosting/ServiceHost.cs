using System.Net;
using System.Net.Sockets;
using Grpc.AspNetCore.Server.Model;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Snapshotter.Core.Overlay;
using Snapshotter.Core.Snapshots;
using Snapshotter.Services;

namespace Snapshotter.Hosting;

/// <summary>
/// Runs the daemon: opens the snapshotter on its root, serves the snapshots API (Grpc.AspNetCore) on the unix socket
/// and stops cleanly on SIGTERM/SIGINT (in-flight calls finish, the socket file is removed).
/// </summary>
internal static class ServiceHost
{
    /// <summary>Largest request and response message: containerd's own clients and server allow 16 MiB.</summary>
    public const int MaxMessageSize = 16 * 1024 * 1024;

    public static async Task<int> RunAsync(SnapshotterConfig config, CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
        });
        ConfigureLogging(builder.Logging, ConfigLoader.ToLogLevel(config.LogLevel), config.LogFormat == "json");
        var metrics = SnapshotterMetrics.Shared;
        builder.Services.AddSingleton(metrics);
        var metricsEndpoint = config.MetricsAddress.Length > 0 ? IPEndPoint.Parse(config.MetricsAddress) : null;
        TelemetrySetup.Configure(builder.Services, exportMetrics: metricsEndpoint is not null);

        // Stopping waits this long for calls in flight (Kestrel drains HTTP/2 streams), then aborts them.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(config.ShutdownTimeoutSeconds));

        Directory.CreateDirectory(config.Root, SocketPreparer.DirectoryMode);
        using var rootLock = LockRoot(config.Root);
        var staleSocket = SocketPreparer.Prepare(config.Address);

        // Unix endpoints get a socket that is listening, with its final mode, before its path appears.
        builder.WebHost.UseSockets(o => o.CreateBoundListenSocket = endpoint => endpoint is UnixDomainSocketEndPoint unix
            ? UnixListenSocket.Create(unix.ToString(), SocketPreparer.SocketMode, o.Backlog)
            : SocketTransportOptions.CreateDefaultBoundListenSocket(endpoint));
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.ListenUnixSocket(config.Address, l => l.Protocols = HttpProtocols.Http2);
            if (metricsEndpoint is not null)
            {
                // Prometheus scrapes over plain HTTP/1.1 on TCP, beside the unix-socket gRPC endpoint.
                k.Listen(metricsEndpoint, l => l.Protocols = HttpProtocols.Http1);
            }
        });

        // The snapshotter logs through the host's logger factory, so it is opened once the host is built, and before
        // the socket exists; the service is a singleton over it.
        ISnapshotter? opened = null;
        builder.Services.AddSingleton(_ => new SnapshotsService(opened ?? throw new InvalidOperationException("snapshotter not open")));
        builder.Services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = MaxMessageSize;
            o.MaxSendMessageSize = MaxMessageSize;
            // Outermost first: telemetry sees the status the error interceptor made of an exception.
            o.Interceptors.Add<GrpcTelemetryInterceptor>();
            o.Interceptors.Add<GrpcErrorInterceptor>();
        });

        // The snapshots service's methods come from its own provider (malformed requests -> INTERNAL); the default
        // provider would bind them a second time. No other gRPC service is served.
        builder.Services.RemoveAll(typeof(IServiceMethodProvider<>));
        builder.Services.AddSingleton<IServiceMethodProvider<SnapshotsService>, SnapshotsMethodProvider>();

        var app = builder.Build();
        app.MapGrpcService<SnapshotsService>();
        if (metricsEndpoint is not null)
        {
            TelemetrySetup.MapEndpoints(app, () => opened is not null);
        }

        var loggerFactory = app.Services.GetRequiredService<ILoggerFactory>();
        var logger = loggerFactory.CreateLogger("snapshotter");

        if (staleSocket)
        {
            Log.ReplacingStaleSocket(logger, config.Address);
        }

        // Lazy pulling first (its backend cleans the stale mounts of a crashed run), then the snapshotter on top; disposal
        // runs the other way round: lazy mounts are unmounted before the cache daemon stops.
        var statistics = new RemoteStatistics();
        await using var remote = await RemoteComposition.CreateAsync(config, loggerFactory, statistics, cancellationToken);
        await using OverlaySnapshotter snapshotter = await OverlaySnapshotter.OpenAsync(config.Root, loggerFactory, remote.FileSystem, statistics, cancellationToken);
        TelemetrySetup.ObserveRemote(metrics, statistics, remote.FileSystem);
        opened = snapshotter;

        // A crash (kill -9) can leave directories no snapshot owns; remove them before serving.
        await snapshotter.CleanupAsync(cancellationToken);

        var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
        lifetime.ApplicationStarted.Register(() =>
        {
            Log.Listening(logger, config.Address, config.Root);
            if (metricsEndpoint is not null)
            {
                // The bound address, also when the configured port is 0.
                var addresses = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
                    .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()?.Addresses ?? [];
                Log.MetricsListening(logger, string.Join(", ", addresses.Where(a => a.StartsWith("http://", StringComparison.Ordinal) && !a.Contains("unix:", StringComparison.Ordinal))));
            }
        });
        lifetime.ApplicationStopping.Register(() => Log.ShuttingDown(logger, config.ShutdownTimeoutSeconds));

        try
        {
            await app.RunAsync();
        }
        finally
        {
            if (File.Exists(config.Address))
            {
                File.Delete(config.Address);
            }

            Log.Stopped(logger, config.Address);
            await app.DisposeAsync();
        }

        return 0;
    }

    private static void ConfigureLogging(ILoggingBuilder logging, LogLevel level, bool json)
    {
        logging.ClearProviders();
        logging.SetMinimumLevel(level);

        // ASP.NET Core and gRPC report every non-OK call at Information; the interceptor logs the unexpected ones.
        var frameworkLevel = level > LogLevel.Warning ? level : LogLevel.Warning;
        logging.AddFilter("Microsoft", frameworkLevel);
        logging.AddFilter("Grpc", frameworkLevel);
        if (json)
        {
            // One JSON object per line (event id, category, message, structured state): for log collectors.
            logging.AddJsonConsole(o =>
            {
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                o.UseUtcTimestamp = true;
                o.IncludeScopes = false;
            });
            return;
        }

        logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            o.UseUtcTimestamp = true;
        });
    }

    /// <summary>
    /// Holds an exclusive lock on <c>&lt;root&gt;/snapshotter.lock</c> for the daemon's lifetime (.NET maps
    /// FileShare.None to flock on Linux), so two daemons never share one metadata store and snapshot tree.
    /// </summary>
    private static FileStream LockRoot(string root)
    {
        var path = Path.Combine(root, "snapshotter.lock");
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new ConfigException($"root {root} is in use by another snapshotter ({path} is locked)", e);
        }
    }
}
