using Grpc.Core;
using Microsoft.Extensions.Logging;
using Snapshotter.Core;
using Snapshotter.Services;

namespace Snapshotter.Tests.Services;

public sealed class GrpcErrorInterceptorTests
{
    private const string Method = "/containerd.services.snapshots.v1.Snapshots/Prepare";
    private readonly CollectingLogger<GrpcErrorInterceptor> _logger = new();

    private GrpcErrorInterceptor Interceptor => new(_logger);

    // Every call is logged at Debug (the timeline of what containerd asked); problems are Information and above.
    private IEnumerable<(LogLevel Level, EventId EventId, string Message, Exception? Exception)> Problems =>
        _logger.Entries.Where(e => e.Level >= LogLevel.Information);

    private Task<string> Unary(Exception thrown) =>
        Interceptor.UnaryServerHandler<string, string>("request", new TestServerCallContext(Method), (_, _) => throw thrown);

    [Theory]
    [InlineData(ErrorKind.NotFound, StatusCode.NotFound)]
    [InlineData(ErrorKind.AlreadyExists, StatusCode.AlreadyExists)]
    [InlineData(ErrorKind.FailedPrecondition, StatusCode.FailedPrecondition)]
    [InlineData(ErrorKind.NotImplemented, StatusCode.Unimplemented)]
    public async Task UnaryServerHandler_SnapshotterException_StatusFromKindNotLogged(ErrorKind kind, StatusCode expected)
    {
        var e = await Assert.ThrowsAsync<RpcException>(() => Unary(new SnapshotterException(kind, "snapshot k: no")));

        Assert.Equal(expected, e.StatusCode);
        Assert.Equal("snapshot k: no", e.Status.Detail);
        Assert.Empty(Problems);
        Assert.Contains(expected.ToString(), Assert.Single(_logger.Entries, l => l.Level == LogLevel.Debug).Message);
    }

    [Fact]
    public async Task UnaryServerHandler_UnexpectedException_UnknownWithMessageLoggedOnce()
    {
        var bug = new InvalidOperationException("sequence contains no elements");

        var e = await Assert.ThrowsAsync<RpcException>(() => Unary(bug));

        Assert.Equal(StatusCode.Unknown, e.StatusCode);
        Assert.Equal("sequence contains no elements", e.Status.Detail);
        var entry = Assert.Single(Problems);
        Assert.Equal(1004, entry.EventId.Id);
        Assert.Same(bug, entry.Exception);
        Assert.Contains(Method, entry.Message);
    }

    [Fact]
    public async Task UnaryServerHandler_IOAndCancellation_UnavailableAndCancelled()
    {
        var io = await Assert.ThrowsAsync<RpcException>(() => Unary(new IOException("No space left on device")));
        var denied = await Assert.ThrowsAsync<RpcException>(() => Unary(new UnauthorizedAccessException("Access to the path is denied")));
        var cancelled = await Assert.ThrowsAsync<RpcException>(() => Unary(new OperationCanceledException()));

        Assert.Equal((StatusCode.Unavailable, "No space left on device"), (io.StatusCode, io.Status.Detail));
        Assert.Equal(StatusCode.Unavailable, denied.StatusCode);
        Assert.Equal(StatusCode.Cancelled, cancelled.StatusCode);
        Assert.Empty(Problems);
    }

    [Fact]
    public async Task UnaryServerHandler_RpcException_PassesThroughUnchanged()
    {
        var thrown = new RpcException(new Status(StatusCode.ResourceExhausted, "too big"));

        var e = await Assert.ThrowsAsync<RpcException>(() => Unary(thrown));

        Assert.Same(thrown, e);
    }

    [Fact]
    public async Task UnaryServerHandler_Success_ReturnsTheResponse()
    {
        var response = await Interceptor.UnaryServerHandler<string, string>("request", new TestServerCallContext(Method), (r, _) => Task.FromResult(r + "-ok"));

        Assert.Equal("request-ok", response);
    }

    [Fact]
    public async Task ServerStreamingServerHandler_FailureAfterWrites_MappedStatus()
    {
        var writer = new ListWriter();

        var e = await Assert.ThrowsAsync<RpcException>(() => Interceptor.ServerStreamingServerHandler<string, string>(
            "request",
            writer,
            new TestServerCallContext("/containerd.services.snapshots.v1.Snapshots/List"),
            async (_, stream, _) =>
            {
                await stream.WriteAsync("first");
                throw SnapshotterException.InvalidArgument("filter: bad");
            }));

        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Equal(["first"], writer.Written);
    }

    private sealed class ListWriter : IServerStreamWriter<string>
    {
        public List<string> Written { get; } = [];

        public WriteOptions? WriteOptions { get; set; }

        public Task WriteAsync(string message)
        {
            Written.Add(message);
            return Task.CompletedTask;
        }
    }
}
