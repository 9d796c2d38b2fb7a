using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Snapshotter.Configuration;
using Snapshotter.Core.Overlay;
using Snapshotter.Core.Snapshots;
using Snapshotter.Rpc;
using Snapshotter.Services;

namespace Snapshotter.Hosting;

/// <summary>
/// Runs the daemon: opens the snapshotter on its root, serves the snapshots API on the unix socket and stops
/// cleanly on SIGTERM/SIGINT (in-flight calls finish, the socket file is removed).
/// </summary>
internal static class ServiceHost
{
    public static async Task<int> RunAsync(SnapshotterConfig config, CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
        });
        var level = ConfigLoader.ToLogLevel(config.LogLevel);
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(level);
        builder.Logging.AddFilter("Microsoft", level > LogLevel.Warning ? level : LogLevel.Warning);
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            o.UseUtcTimestamp = true;
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(config.ShutdownTimeoutSeconds));

        Directory.CreateDirectory(config.Root, SocketPreparer.DirectoryMode);
        using var rootLock = LockRoot(config.Root);
        var removedStaleSocket = SocketPreparer.Prepare(config.Address);
        builder.WebHost.ConfigureKestrel(k => k.ListenGrpcUnixSocket(config.Address));
        var app = builder.Build();
        var loggerFactory = app.Services.GetRequiredService<ILoggerFactory>();
        var logger = loggerFactory.CreateLogger("snapshotter");

        if (removedStaleSocket)
        {
            Log.RemovedStaleSocket(logger, config.Address);
        }

        await using ISnapshotter snapshotter = await OverlaySnapshotter.OpenAsync(config.Root, loggerFactory, cancellationToken);

        // A crash (kill -9) can leave directories no snapshot owns; remove them before serving.
        await snapshotter.CleanupAsync(cancellationToken);

        var registry = new GrpcServiceRegistry();
        new SnapshotsService(snapshotter).Register(registry);
        app.MapGrpcServices(registry, new GrpcServerOptions
        {
            ExceptionMapper = e =>
            {
                var (code, message) = GrpcErrorMapper.Map(e);
                if (code == StatusCode.Unknown)
                {
                    Log.UnexpectedFailure(logger, "snapshots", e);
                }

                return (code, message);
            },
        });

        var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
        lifetime.ApplicationStarted.Register(() =>
        {
            File.SetUnixFileMode(config.Address, SocketPreparer.SocketMode);
            Log.Listening(logger, config.Address, config.Root);
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
