using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using Snapshotter.Rpc.Protocol;

namespace Snapshotter.Rpc.Client;

/// <summary>
/// The client side of one call: sends the request, reads framed messages, then the status
/// (from trailers, or from the headers of a trailers-only response). Every failure leaves as an <see cref="RpcException"/>.
/// </summary>
internal sealed class GrpcClientCall : IDisposable
{
    private readonly CancellationTokenSource? _timeoutCts;
    private readonly CancellationTokenSource? _linkedCts;
    private readonly CancellationToken _userToken;
    private readonly int _maxReceiveMessageSize;
    private HttpResponseMessage? _response;
    private PipeReader? _reader;
    private bool _trailersOnly;

    private GrpcClientCall(TimeSpan? timeout, int maxReceiveMessageSize, CancellationToken userToken)
    {
        _userToken = userToken;
        _maxReceiveMessageSize = maxReceiveMessageSize;
        if (timeout is { } t)
        {
            _timeoutCts = new CancellationTokenSource(t < TimeSpan.Zero ? TimeSpan.Zero : t);
            _linkedCts = CancellationTokenSource.CreateLinkedTokenSource(userToken, _timeoutCts.Token);
        }

        Token = _linkedCts?.Token ?? userToken;
    }

    private CancellationToken Token { get; }

    public static async Task<GrpcClientCall> StartAsync(
        HttpMessageInvoker invoker, Uri uri, IMessage message, IReadOnlyDictionary<string, string>? headers, TimeSpan? timeout,
        int maxSendMessageSize, int maxReceiveMessageSize, CancellationToken cancellationToken)
    {
        var call = new GrpcClientCall(timeout, maxReceiveMessageSize, cancellationToken);
        try
        {
            await call.SendAsync(invoker, uri, message, headers, timeout, maxSendMessageSize).ConfigureAwait(false);
            return call;
        }
        catch (Exception ex)
        {
            call.Dispose();
            throw call.Translate(ex);
        }
    }

    /// <summary>Reads the next message; HasMessage=false at the end of the stream (the status is then checked by <see cref="EnsureSuccess"/>).</summary>
    public async ValueTask<(bool HasMessage, T Message)> ReadMessageAsync<T>(MessageParser<T> parser)
        where T : IMessage<T>
    {
        if (_trailersOnly)
        {
            return (false, default!);
        }

        try
        {
            return await GrpcFraming.ReadMessageAsync(_reader!, parser, _maxReceiveMessageSize, Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            throw Translate(ex);
        }
    }

    /// <summary>Throws the call's status when it is not OK. Call only after the body was read to its end.</summary>
    public void EnsureSuccess()
    {
        HttpHeaders statusHeaders = _trailersOnly ? _response!.Headers : _response!.TrailingHeaders;
        if (!statusHeaders.TryGetValues(GrpcProtocol.StatusHeader, out IEnumerable<string>? statusValues)
            || !int.TryParse(statusValues.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out int status))
        {
            throw new RpcException(StatusCode.Internal, "server closed the stream without a valid grpc-status");
        }

        if (status == (int)StatusCode.OK)
        {
            return;
        }

        string detail = statusHeaders.TryGetValues(GrpcProtocol.MessageHeader, out IEnumerable<string>? messageValues)
            ? GrpcStatusMessage.Decode(messageValues.FirstOrDefault() ?? string.Empty)
            : string.Empty;
        throw new RpcException(Enum.IsDefined((StatusCode)status) ? (StatusCode)status : StatusCode.Unknown, detail);
    }

    public void Dispose()
    {
        _reader?.Complete();
        _response?.Dispose();
        _linkedCts?.Dispose();
        _timeoutCts?.Dispose();
    }

    /// <summary>Turns transport and cancellation failures into the status a gRPC client reports.</summary>
    public Exception Translate(Exception exception) => exception switch
    {
        RpcException => exception,
        _ when _timeoutCts?.IsCancellationRequested == true => new RpcException(StatusCode.DeadlineExceeded, "deadline exceeded", exception),
        _ when _userToken.IsCancellationRequested => new RpcException(StatusCode.Cancelled, "call cancelled", exception),
        HttpRequestException or IOException or OperationCanceledException => new RpcException(StatusCode.Unavailable, exception.Message, exception),
        _ => exception,
    };

    private static StatusCode FromHttpStatus(HttpStatusCode status) => status switch
    {
        // grpc/grpc doc/http-grpc-status-mapping.md
        HttpStatusCode.BadRequest => StatusCode.Internal,
        HttpStatusCode.Unauthorized => StatusCode.Unauthenticated,
        HttpStatusCode.Forbidden => StatusCode.PermissionDenied,
        HttpStatusCode.NotFound => StatusCode.Unimplemented,
        HttpStatusCode.TooManyRequests or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout => StatusCode.Unavailable,
        _ => StatusCode.Unknown,
    };

    private async Task SendAsync(HttpMessageInvoker invoker, Uri uri, IMessage message, IReadOnlyDictionary<string, string>? headers, TimeSpan? timeout, int maxSendMessageSize)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, uri)
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new GrpcMessageContent(message, maxSendMessageSize),
        };
        request.Headers.TE.ParseAdd("trailers");
        if (timeout is { } t)
        {
            request.Headers.TryAddWithoutValidation(GrpcTimeout.HeaderName, GrpcTimeout.Format(t));
        }

        if (headers is not null)
        {
            foreach (KeyValuePair<string, string> header in headers)
            {
                if (!request.Headers.TryAddWithoutValidation(header.Key, header.Value))
                {
                    throw new ArgumentException($"metadata key '{header.Key}' is not a valid request header", nameof(headers));
                }
            }
        }

        // HttpClient.SendAsync(request, token) would buffer the whole (possibly endless) stream.
        _response = invoker is HttpClient client
            ? await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Token).ConfigureAwait(false)
            : await invoker.SendAsync(request, Token).ConfigureAwait(false);

        if (_response.StatusCode != HttpStatusCode.OK)
        {
            throw new RpcException(FromHttpStatus(_response.StatusCode), $"bad HTTP status {(int)_response.StatusCode} from server");
        }

        string? contentType = _response.Content.Headers.ContentType?.MediaType;
        if (!GrpcProtocol.IsGrpcContentType(contentType))
        {
            throw new RpcException(StatusCode.Unknown, $"unexpected response content-type '{contentType}'");
        }

        _trailersOnly = _response.Headers.Contains(GrpcProtocol.StatusHeader);
        if (!_trailersOnly)
        {
            Stream body = await _response.Content.ReadAsStreamAsync(Token).ConfigureAwait(false);
            _reader = PipeReader.Create(body);
        }
    }
}
