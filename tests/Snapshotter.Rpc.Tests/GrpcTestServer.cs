using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Snapshotter.Rpc.Containerd.Snapshots;
using Snapshotter.Rpc.Containerd.Types;

namespace Snapshotter.Rpc.Tests;

/// <summary>
/// A real Kestrel server on a temp unix socket serving a test service built from the containerd snapshots
/// messages. Prepare echoes, View fails NotFound, Mounts/Remove throw plain exceptions (mapped),
/// Stat blocks until its token fires (keys starting with "drain" finish after 1.5 s regardless), List streams N messages (optionally failing afterwards).
/// </summary>
public sealed class GrpcTestServer : IAsyncLifetime
{
    /// <summary>Passed to <see cref="GrpcServerOptions.CancelCallsOnShutdown"/>.</summary>
    public bool CancelCallsOnShutdown { get; init; }

    public const string Service = "/containerd.services.snapshots.v1.Snapshots/";
    public const int MaxReceiveMessageSize = 4096;
    public const string NotFoundMessage = "x% ü";

    private WebApplication? _app;

    public string SocketPath { get; } = Path.Combine(Path.GetTempPath(), $"rpc-test-{Guid.NewGuid():N}.sock");

    internal CollectingLoggerProvider Logs { get; } = new();

    internal ConcurrentDictionary<string, CallProbe> Probes { get; } = new();

    internal CallProbe Probe(string key) => Probes.GetOrAdd(key, _ => new CallProbe());

    public async Task InitializeAsync()
    {
        var registry = new GrpcServiceRegistry()
            .AddUnary<PrepareSnapshotRequest, PrepareSnapshotResponse>(Service + "Prepare", PrepareSnapshotRequest.Parser, Prepare)
            .AddUnary<ViewSnapshotRequest, ViewSnapshotResponse>(Service + "View", ViewSnapshotRequest.Parser,
                (_, _) => throw new RpcException(StatusCode.NotFound, NotFoundMessage))
            .AddUnary<MountsRequest, MountsResponse>(Service + "Mounts", MountsRequest.Parser,
                (request, _) => throw new InvalidOperationException("state is wrong for " + request.Key))
            .AddUnary<RemoveSnapshotRequest, Google.Protobuf.WellKnownTypes.Empty>(Service + "Remove", RemoveSnapshotRequest.Parser,
                (request, _) => throw new FormatException("format broke for " + request.Key))
            .AddUnary<StatSnapshotRequest, StatSnapshotResponse>(Service + "Stat", StatSnapshotRequest.Parser, StatBlocksAsync)
            .AddServerStreaming<ListSnapshotsRequest, ListSnapshotsResponse>(Service + "List", ListSnapshotsRequest.Parser, ListAsync);

        var options = new GrpcServerOptions
        {
            MaxReceiveMessageSize = MaxReceiveMessageSize,
            CancelCallsOnShutdown = CancelCallsOnShutdown,
            ExceptionMapper = ex => ex is InvalidOperationException
                ? (StatusCode.FailedPrecondition, "mapped: " + ex.Message)
                : (StatusCode.Unknown, "unmapped: " + ex.Message),
        };

        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(Logs);
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenGrpcUnixSocket(SocketPath));
        _app = builder.Build();
        _app.MapGrpcServices(registry, options);
        await _app.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        File.Delete(SocketPath);
    }

    /// <summary>An HttpClient speaking HTTP/2 prior knowledge to the server, for hand-made requests.</summary>
    public HttpClient CreateRawHttpClient()
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        return new HttpClient(handler)
        {
            BaseAddress = new Uri("http://localhost/"),
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
    }

    private static Task<PrepareSnapshotResponse> Prepare(PrepareSnapshotRequest request, ServerCallContext context)
    {
        var mount = new Mount
        {
            Type = context.RequestHeaders.TryGetValue("containerd-namespace", out string? ns) ? ns : "<none>",
            Source = request.Key,
            Target = context.Method,
        };
        mount.Options.Add(request.Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Key + "=" + l.Value));
        mount.Options.Add("deadline=" + (context.Deadline?.ToString("O", CultureInfo.InvariantCulture) ?? "none"));
        return Task.FromResult(new PrepareSnapshotResponse { Mounts = { mount } });
    }

    private async Task<StatSnapshotResponse> StatBlocksAsync(StatSnapshotRequest request, ServerCallContext context)
    {
        CallProbe probe = Probe(request.Key);
        probe.Started.TrySetResult(context);
        if (request.Key.StartsWith("drain", StringComparison.Ordinal))
        {
            // A slow call that ignores shutdown: it must be allowed to finish while the host drains.
            await Task.Delay(TimeSpan.FromSeconds(1.5), CancellationToken.None);
            return new StatSnapshotResponse { Info = new Info { Name = request.Key } };
        }

        try
        {
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
        }
        catch (OperationCanceledException)
        {
            probe.Cancelled.TrySetResult();
            throw;
        }

        throw new InvalidOperationException("unreachable");
    }

    private static async Task ListAsync(ListSnapshotsRequest request, IServerStreamWriter<ListSnapshotsResponse> writer, ServerCallContext context)
    {
        int count = int.Parse(request.Filters[0], CultureInfo.InvariantCulture);
        int padding = request.Filters.Count > 2 ? int.Parse(request.Filters[2], CultureInfo.InvariantCulture) : 0;
        for (int i = 0; i < count; i++)
        {
            var info = new Info { Name = "snap-" + i.ToString(CultureInfo.InvariantCulture), Parent = new string('p', padding) };
            await writer.WriteAsync(new ListSnapshotsResponse { Info = { info } }, context.CancellationToken);
        }

        if (request.Filters.Count > 1 && request.Filters[1] == "fail")
        {
            throw new RpcException(StatusCode.Aborted, $"failed after {count}");
        }
    }
}
