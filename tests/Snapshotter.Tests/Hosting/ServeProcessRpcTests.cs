using System.Diagnostics;
using Grpc.Core;
using Microsoft.Data.Sqlite;
using Proto = Snapshotter.Containerd.Snapshots;
using static Snapshotter.Tests.Hosting.SnapshotsTestClient;

namespace Snapshotter.Tests.Hosting;

/// <summary>
/// The gRPC edge of the real <c>snapshotter serve</c> process: limits, malformed and unknown calls, deadlines, failures
/// of the disk and draining on SIGTERM. Slow calls are made by holding the metadata store's write lock from the test.
/// </summary>
public sealed class ServeProcessRpcTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("serverpc").FullName;
    private ServeProcess? _serve;
    private SnapshotsTestClient? _client;

    private ServeProcess Serve => _serve!;

    private SnapshotsTestClient Client => _client!;

    private string Root => Path.Combine(_dir, "root");

    private string Address => Path.Combine(_dir, "run", "snapshotter.sock");

    public async Task InitializeAsync()
    {
        _serve = await ServeProcess.StartAsync(Root, Address);
        _client = new SnapshotsTestClient(Address);
    }

    public async Task DisposeAsync()
    {
        _client?.Dispose();
        if (_serve is not null)
        {
            await _serve.DisposeAsync();
        }

        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>Takes SQLite's write lock on the daemon's metadata.db: its writes wait (busy timeout) until disposed.</summary>
    private SqliteConnection HoldWriteLock()
    {
        var connection = new SqliteConnection($"Data Source={Path.Combine(Root, "metadata.db")};Pooling=False");
        connection.Open();
        using var begin = connection.CreateCommand();
        begin.CommandText = "BEGIN IMMEDIATE;";
        begin.ExecuteNonQuery();
        return connection;
    }

    [Fact]
    public async Task Serve_RequestOver16MiB_ResourceExhaustedAndDaemonKeepsServing()
    {
        var request = new Proto.PrepareSnapshotRequest { Key = new string('k', (16 * 1024 * 1024) + 1) };

        var e = await Assert.ThrowsAsync<RpcException>(() => Client.Client.PrepareAsync(request, Options()).ResponseAsync);

        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Single((await Client.Prepare("after-oversized")).Mounts);
    }

    [Fact]
    public async Task Serve_RequestJustUnder16MiB_Served()
    {
        // The limit is the message, not a smaller HTTP/2 body or frame limit on the way.
        var key = new string('k', (16 * 1024 * 1024) - 16);

        var response = await Client.Client.PrepareAsync(new Proto.PrepareSnapshotRequest { Key = key }, Options());

        Assert.Single(response.Mounts);
        await Client.Remove(key);
    }

    [Theory]
    [InlineData("Stat", new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF })]
    [InlineData("Prepare", new byte[] { 0x12, 0x7F, 0x61 })]
    [InlineData("List", new byte[] { 0x0A })]
    public async Task Serve_GarbageProtobuf_FailsTheCallAndDaemonKeepsServing(string method, byte[] garbage)
    {
        var e = await Assert.ThrowsAsync<RpcException>(() => method == "List" ? RawList(garbage) : Client.RawUnary(method, garbage));

        Assert.True(e.StatusCode is StatusCode.Internal or StatusCode.InvalidArgument, e.Status.ToString());
        Assert.Contains("unmarshalling", e.Status.Detail);
        Assert.Single((await Client.Prepare("after-garbage")).Mounts);

        // The client's fault is an answer, not an error of the daemon.
        Assert.DoesNotContain("fail:", Serve.Output);
    }

    private async Task RawList(byte[] garbage)
    {
        var marshaller = Marshallers.Create(b => b, b => b);
        var raw = new Method<byte[], byte[]>(MethodType.ServerStreaming, ServiceName, "List", marshaller, marshaller);
        using var channel = UnixSocketChannel.Create(Address);
        using var call = channel.CreateCallInvoker().AsyncServerStreamingCall(raw, null, Options(), garbage);
        await foreach (var unused in call.ResponseStream.ReadAllAsync())
        {
        }
    }

    [Theory]
    [InlineData(SnapshotsTestClient.ServiceName, "Rebase")]
    [InlineData("containerd.services.content.v1.Content", "Info")]
    public async Task Serve_UnknownMethodOrService_Unimplemented(string service, string method)
    {
        var marshaller = Marshallers.Create(b => b, b => b);
        var raw = new Method<byte[], byte[]>(MethodType.Unary, service, method, marshaller, marshaller);
        using var channel = UnixSocketChannel.Create(Address);

        var e = await Assert.ThrowsAsync<RpcException>(() => channel.CreateCallInvoker().AsyncUnaryCall(raw, null, Options(), []).ResponseAsync);

        Assert.Equal(StatusCode.Unimplemented, e.StatusCode);
        Assert.Single((await Client.Prepare("after-unknown")).Mounts);
    }

    [Fact]
    public async Task Serve_DeadlineExpiresWhileCallWaits_DeadlineExceededAndDaemonKeepsServing()
    {
        await Client.Prepare("committed-before");
        var started = Stopwatch.StartNew();
        using (HoldWriteLock())
        {
            var e = await Assert.ThrowsAsync<RpcException>(() =>
                Client.Client.PrepareAsync(new Proto.PrepareSnapshotRequest { Key = "late" }, Options(TimeSpan.FromMilliseconds(500))).ResponseAsync);

            Assert.Equal(StatusCode.DeadlineExceeded, e.StatusCode);
            Assert.InRange(started.Elapsed, TimeSpan.FromMilliseconds(400), TimeSpan.FromSeconds(10));

            // Reads do not wait for the writer (WAL).
            Assert.Equal(Proto.Kind.Active, (await Client.Stat("committed-before")).Kind);
        }

        Assert.Single((await Client.Prepare("after-deadline")).Mounts);
    }

    [Fact]
    public async Task Serve_SigtermDuringCall_CallFinishesThenExitsZero()
    {
        Task<Proto.PrepareSnapshotResponse> call;
        Task<int> exit;
        var writeLock = HoldWriteLock();
        try
        {
            call = Client.Prepare("in-flight");

            // The call reaches the daemon and waits for the lock: nothing else can finish it.
            await Task.Delay(TimeSpan.FromSeconds(1));
            Assert.False(call.IsCompleted, $"the call finished while the store was locked: {call.Status}");
            exit = Serve.SignalAndWaitAsync(15);
            await WaitForOutputAsync("shutting down");
            await Task.Delay(TimeSpan.FromMilliseconds(500));

            Assert.False(call.IsCompleted, $"the call finished before the store lock was released: {call.Status}");
            Assert.False(exit.IsCompleted, "the daemon exited with a call in flight");
            Assert.True(File.Exists(Address), "the socket was removed with a call in flight");
        }
        finally
        {
            // Releasing the lock lets the call finish: the daemon drains instead of cutting it off.
            writeLock.Dispose();
        }

        Assert.Single((await call.WaitAsync(TimeSpan.FromSeconds(30))).Mounts);
        Assert.Equal(0, await exit.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.False(File.Exists(Address), "socket still exists after the drain");
    }

    [Fact]
    public async Task Serve_UnexpectedFailure_UnknownWithTheReasonLoggedOnce()
    {
        // An immutable snapshots directory: mkdir fails with EPERM even for root, which the snapshotter does not expect.
        var snapshots = Path.Combine(Root, "snapshots");
        await RunAsync("chattr", "+i", snapshots);
        try
        {
            var e = await Assert.ThrowsAsync<RpcException>(() => Client.Prepare("on-immutable-dir"));

            Assert.True(e.StatusCode == StatusCode.Unknown, e.Status.ToString());
            Assert.Contains(snapshots, e.Status.Detail);
        }
        finally
        {
            await RunAsync("chattr", "-i", snapshots);
        }

        Assert.Single((await Client.Prepare("after-failure")).Mounts);
        await WaitForOutputAsync("failed unexpectedly");
        var failure = Assert.Single(Serve.Output.Split('\n'), l => l.Contains("fail:", StringComparison.Ordinal));
        Assert.Contains("Prepare failed unexpectedly", failure);
    }

    private async Task WaitForOutputAsync(string text)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!Serve.Output.Contains(text, StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, $"no '{text}' in the daemon's output:\n{Serve.Output}");
            await Task.Delay(20);
        }
    }

    private static async Task RunAsync(string file, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true })!;
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', args)}: exit {process.ExitCode}: {stderr}");
    }
}
