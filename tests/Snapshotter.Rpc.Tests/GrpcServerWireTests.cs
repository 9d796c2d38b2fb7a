using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using Snapshotter.Rpc.Containerd.Snapshots;

namespace Snapshotter.Rpc.Tests;

/// <summary>The server's wire behaviour checked with hand-made HTTP/2 requests (what grpc-go / containerd would see).</summary>
public sealed class GrpcServerWireTests(GrpcTestServer server) : IClassFixture<GrpcTestServer>
{
    private const string Service = GrpcTestServer.Service;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private static byte[] Frame(IMessage message)
    {
        byte[] payload = message.ToByteArray();
        var frame = new byte[5 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)payload.Length);
        payload.CopyTo(frame, 5);
        return frame;
    }

    private static HttpRequestMessage GrpcRequest(string path, byte[] body, string contentType = "application/grpc")
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        HttpRequestMessage request = Http2Request(HttpMethod.Post, path);
        request.Content = content;
        request.Headers.TE.ParseAdd("trailers");
        return request;
    }

    private static HttpRequestMessage Http2Request(HttpMethod method, string path) => new(method, path)
    {
        Version = HttpVersion.Version20,
        VersionPolicy = HttpVersionPolicy.RequestVersionExact,
    };

    private static string? Header(HttpHeaders headers, string name) =>
        headers.TryGetValues(name, out IEnumerable<string>? values) ? string.Join(",", values) : null;

    private async Task<(HttpResponseMessage Response, byte[] Body)> SendAsync(HttpRequestMessage request)
    {
        using HttpClient http = server.CreateRawHttpClient();
        HttpResponseMessage response = await http.SendAsync(request).WaitAsync(Patience);
        byte[] body = await response.Content.ReadAsByteArrayAsync();
        return (response, body);
    }

    [Fact]
    public async Task Post_TruncatedFrame_TrailersOnlyInternalIncompleteMessage()
    {
        byte[] body = [0, 0, 0, 0, 10, 0x0A, 0x01];

        (HttpResponseMessage response, byte[] responseBody) = await SendAsync(GrpcRequest(Service + "Prepare", body));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/grpc", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("13", Header(response.Headers, "grpc-status"));
        Assert.Equal("incomplete message", Header(response.Headers, "grpc-message"));
        Assert.Empty(responseBody);
    }

    [Fact]
    public async Task Post_CompressedFlag_TrailersOnlyInternal()
    {
        byte[] body = [1, 0, 0, 0, 2, 0x0A, 0x00];

        (HttpResponseMessage response, _) = await SendAsync(GrpcRequest(Service + "Prepare", body));

        Assert.Equal("13", Header(response.Headers, "grpc-status"));
        Assert.Contains("compressed", Header(response.Headers, "grpc-message"));
    }

    [Fact]
    public async Task Post_UnaryWithoutMessage_Internal()
    {
        (HttpResponseMessage response, _) = await SendAsync(GrpcRequest(Service + "Prepare", []));

        Assert.Equal("13", Header(response.Headers, "grpc-status"));
        Assert.Contains("no message", Header(response.Headers, "grpc-message"));
    }

    [Fact]
    public async Task Post_UnaryWithTwoMessages_Internal()
    {
        byte[] one = Frame(new PrepareSnapshotRequest { Key = "a" });

        (HttpResponseMessage response, _) = await SendAsync(GrpcRequest(Service + "Prepare", [.. one, .. one]));

        Assert.Equal("13", Header(response.Headers, "grpc-status"));
        Assert.Contains("more than one message", Header(response.Headers, "grpc-message"));
    }

    [Fact]
    public async Task Post_GrpcProtoContentType_ServedWithMessageThenStatusInTrailers()
    {
        (HttpResponseMessage response, byte[] body) = await SendAsync(GrpcRequest(Service + "Prepare", Frame(new PrepareSnapshotRequest { Key = "wire" }), "application/grpc+proto"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/grpc", response.Content.Headers.ContentType?.MediaType);
        Assert.Null(Header(response.Headers, "grpc-status"));
        Assert.Equal("0", Header(response.TrailingHeaders, "grpc-status"));
        Assert.Equal(0, body[0]);
        Assert.Equal(body.Length - 5, (int)BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(1)));
        Assert.Equal("wire", PrepareSnapshotResponse.Parser.ParseFrom(body.AsSpan(5)).Mounts[0].Source);
    }

    [Fact]
    public async Task Post_HandlerRpcException_TrailersOnlyWithPercentEncodedMessage()
    {
        (HttpResponseMessage response, byte[] body) = await SendAsync(GrpcRequest(Service + "View", Frame(new ViewSnapshotRequest { Key = "v" })));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/grpc", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("5", Header(response.Headers, "grpc-status"));
        Assert.Equal("x%25 %C3%BC", Header(response.Headers, "grpc-message"));
        Assert.Empty(body);
        Assert.Empty(response.TrailingHeaders);
    }

    [Fact]
    public async Task Post_StreamFailingAfterMessages_StatusInTrailersNotHeaders()
    {
        (HttpResponseMessage response, byte[] body) = await SendAsync(GrpcRequest(Service + "List", Frame(new ListSnapshotsRequest { Filters = { "2", "fail" } })));

        Assert.Null(Header(response.Headers, "grpc-status"));
        Assert.Equal("10", Header(response.TrailingHeaders, "grpc-status"));
        Assert.Equal("failed after 2", Header(response.TrailingHeaders, "grpc-message"));
        int first = 5 + (int)BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(1));
        int second = 5 + (int)BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(first + 1));
        Assert.Equal(first + second, body.Length);
    }

    [Fact]
    public async Task Post_EmptyStream_TrailersOnlyOk()
    {
        (HttpResponseMessage response, byte[] body) = await SendAsync(GrpcRequest(Service + "List", Frame(new ListSnapshotsRequest { Filters = { "0" } })));

        Assert.Equal("0", Header(response.Headers, "grpc-status"));
        Assert.Empty(body);
    }

    [Fact]
    public async Task Post_UnknownPath_TrailersOnlyUnimplemented()
    {
        (HttpResponseMessage response, _) = await SendAsync(GrpcRequest("/other.Service/Method", Frame(new ViewSnapshotRequest())));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("12", Header(response.Headers, "grpc-status"));
    }

    [Fact]
    public async Task Get_AnyPath_Returns405()
    {
        (HttpResponseMessage response, _) = await SendAsync(Http2Request(HttpMethod.Get, Service + "Prepare"));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Contains("POST", response.Content.Headers.Allow);
    }

    [Fact]
    public async Task Post_NonGrpcContentType_Returns415()
    {
        (HttpResponseMessage response, _) = await SendAsync(GrpcRequest(Service + "Prepare", Frame(new PrepareSnapshotRequest()), "application/json"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Fact]
    public async Task Post_MalformedGrpcTimeout_InvalidArgument()
    {
        HttpRequestMessage request = GrpcRequest(Service + "Prepare", Frame(new PrepareSnapshotRequest()));
        request.Headers.TryAddWithoutValidation("grpc-timeout", "soon");

        (HttpResponseMessage response, _) = await SendAsync(request);

        Assert.Equal("3", Header(response.Headers, "grpc-status"));
        Assert.Contains("grpc-timeout", Header(response.Headers, "grpc-message"));
    }

    [Fact]
    public async Task Post_GrpcTimeoutExpiresInSlowHandler_ServerAnswersDeadlineExceeded()
    {
        CallProbe probe = server.Probe("deadline-raw");
        HttpRequestMessage request = GrpcRequest(Service + "Stat", Frame(new StatSnapshotRequest { Key = "deadline-raw" }));
        request.Headers.TryAddWithoutValidation("grpc-timeout", "200m");

        (HttpResponseMessage response, _) = await SendAsync(request);

        Assert.Equal("4", Header(response.Headers, "grpc-status"));
        await probe.Cancelled.Task.WaitAsync(Patience);
        ServerCallContext context = await probe.Started.Task;
        Assert.NotNull(context.Deadline);
    }

    [Fact]
    public async Task Post_Metadata_ReachesHandlerWithLowerCaseKeys()
    {
        HttpRequestMessage request = GrpcRequest(Service + "Prepare", Frame(new PrepareSnapshotRequest { Key = "md" }));
        request.Headers.TryAddWithoutValidation("Containerd-Namespace", "ns-from-raw");

        (HttpResponseMessage response, byte[] body) = await SendAsync(request);

        Assert.Equal("0", Header(response.TrailingHeaders, "grpc-status"));
        Assert.Equal("ns-from-raw", PrepareSnapshotResponse.Parser.ParseFrom(body.AsSpan(5)).Mounts[0].Type);
    }

    [Fact]
    public async Task Post_BodySentSlowlyByteByByte_ServerReassemblesMessage()
    {
        byte[] frame = Frame(new PrepareSnapshotRequest { Key = "slow-body" });
        var content = new StreamContent(new OneByteStream(frame), bufferSize: 1);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        HttpRequestMessage request = Http2Request(HttpMethod.Post, Service + "Prepare");
        request.Content = content;

        (HttpResponseMessage response, byte[] body) = await SendAsync(request);

        Assert.Equal("0", Header(response.TrailingHeaders, "grpc-status"));
        Assert.Equal("slow-body", PrepareSnapshotResponse.Parser.ParseFrom(body.AsSpan(5)).Mounts[0].Source);
    }
}
