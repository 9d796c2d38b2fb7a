using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Snapshotter.Rpc.Server;

namespace Snapshotter.Rpc;

/// <summary>Maps a <see cref="GrpcServiceRegistry"/> onto ASP.NET Core routing.</summary>
public static class GrpcEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Registers one catch-all endpoint that dispatches every path of <paramref name="registry"/>.
    /// Any other POST with a gRPC content type gets UNIMPLEMENTED (trailers-only); a non-POST gets HTTP 405,
    /// a non-gRPC content type HTTP 415, a non-HTTP/2 request HTTP 505.
    /// </summary>
    /// <param name="endpoints">The route builder.</param>
    /// <param name="registry">The methods to serve.</param>
    /// <param name="options">Limits and error mapping. Defaults to <c>new GrpcServerOptions()</c>.</param>
    /// <returns>The endpoint's convention builder.</returns>
    public static IEndpointConventionBuilder MapGrpcServices(this IEndpointRouteBuilder endpoints, GrpcServiceRegistry registry, GrpcServerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(registry);
        IServiceProvider services = endpoints.ServiceProvider;
        ILogger logger = services.GetService<ILoggerFactory>()?.CreateLogger("Snapshotter.Rpc.GrpcServer") ?? NullLogger.Instance;
        CancellationToken stopping = services.GetService<IHostApplicationLifetime>()?.ApplicationStopping ?? CancellationToken.None;
        var dispatcher = new GrpcDispatcher(registry, options ?? new GrpcServerOptions(), logger, stopping);
        return endpoints.Map("/{**grpcPath}", dispatcher.HandleAsync).WithDisplayName("gRPC services");
    }
}
