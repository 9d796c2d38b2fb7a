using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Google.Protobuf;
using Snapshotter.Rpc.Client;

namespace Snapshotter.Rpc;

/// <summary>
/// A minimal gRPC client over HTTP/2 (unary and server-streaming calls).
/// A non-OK status surfaces as <see cref="RpcException"/> with the decoded <c>grpc-message</c>; an expired
/// <c>timeout</c> as DEADLINE_EXCEEDED; cancellation through the token as CANCELLED; transport failures as UNAVAILABLE.
/// </summary>
public sealed class GrpcClient : IDisposable
{
    private readonly HttpMessageInvoker _invoker;
    private readonly Uri _baseAddress;
    private readonly bool _ownsInvoker;

    /// <summary>Creates a client that dials <paramref name="unixSocketPath"/> and speaks HTTP/2 with prior knowledge.</summary>
    public GrpcClient(string unixSocketPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(unixSocketPath);
        var endPoint = new UnixDomainSocketEndPoint(unixSocketPath);
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
            UseProxy = false,
            AllowAutoRedirect = false,
            UseCookies = false,
            EnableMultipleHttp2Connections = true,
        };
        _invoker = new HttpMessageInvoker(handler, disposeHandler: true);
        _baseAddress = new Uri("http://localhost/");
        _ownsInvoker = true;
    }

    /// <summary>Creates a client over an existing invoker (not disposed by this client); requests go to <paramref name="baseAddress"/> + path.</summary>
    public GrpcClient(HttpMessageInvoker invoker, Uri baseAddress)
    {
        ArgumentNullException.ThrowIfNull(invoker);
        ArgumentNullException.ThrowIfNull(baseAddress);
        _invoker = invoker;
        _baseAddress = baseAddress;
    }

    /// <summary>Largest response message accepted, in bytes. Defaults to 16 MiB.</summary>
    public int MaxReceiveMessageSize { get; init; } = 16 * 1024 * 1024;

    /// <summary>Largest request message sent, in bytes. Defaults to 16 MiB.</summary>
    public int MaxSendMessageSize { get; init; } = 16 * 1024 * 1024;

    /// <summary>Makes a unary call.</summary>
    /// <param name="path">The method path, <c>/package.Service/Method</c>.</param>
    /// <param name="request">The request message.</param>
    /// <param name="parser">Parser of the response message.</param>
    /// <param name="headers">Request metadata (e.g. <c>containerd-namespace</c>).</param>
    /// <param name="timeout">Call deadline, sent as <c>grpc-timeout</c> and enforced locally.</param>
    /// <param name="cancellationToken">Cancels the call (the server's handler token fires too).</param>
    /// <returns>The response message.</returns>
    public async Task<TResponse> UnaryAsync<TRequest, TResponse>(string path, TRequest request, MessageParser<TResponse> parser,
        IReadOnlyDictionary<string, string>? headers = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
        where TRequest : IMessage<TRequest>
        where TResponse : IMessage<TResponse>
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(parser);
        using GrpcClientCall call = await StartAsync(path, request, headers, timeout, cancellationToken).ConfigureAwait(false);
        (bool hasMessage, TResponse response) = await call.ReadMessageAsync(parser).ConfigureAwait(false);
        if (!hasMessage)
        {
            call.EnsureSuccess();
            throw new RpcException(StatusCode.Internal, "server sent OK without a response message");
        }

        (bool another, _) = await call.ReadMessageAsync(parser).ConfigureAwait(false);
        if (another)
        {
            throw new RpcException(StatusCode.Internal, "server sent more than one message for a unary call");
        }

        call.EnsureSuccess();
        return response;
    }

    /// <summary>Makes a server-streaming call; the status is checked after the last message.</summary>
    /// <param name="path">The method path, <c>/package.Service/Method</c>.</param>
    /// <param name="request">The request message.</param>
    /// <param name="parser">Parser of the response messages.</param>
    /// <param name="headers">Request metadata.</param>
    /// <param name="timeout">Deadline of the whole call, sent as <c>grpc-timeout</c> and enforced locally.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response messages, read as they arrive.</returns>
    public async IAsyncEnumerable<TResponse> ServerStreamingAsync<TRequest, TResponse>(string path, TRequest request, MessageParser<TResponse> parser,
        IReadOnlyDictionary<string, string>? headers = null, TimeSpan? timeout = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        where TRequest : IMessage<TRequest>
        where TResponse : IMessage<TResponse>
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(parser);
        using GrpcClientCall call = await StartAsync(path, request, headers, timeout, cancellationToken).ConfigureAwait(false);
        while (true)
        {
            (bool hasMessage, TResponse response) = await call.ReadMessageAsync(parser).ConfigureAwait(false);
            if (!hasMessage)
            {
                break;
            }

            yield return response;
        }

        call.EnsureSuccess();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsInvoker)
        {
            _invoker.Dispose();
        }
    }

    private Task<GrpcClientCall> StartAsync(string path, IMessage request, IReadOnlyDictionary<string, string>? headers, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return GrpcClientCall.StartAsync(_invoker, new Uri(_baseAddress, path), request, headers, timeout, MaxSendMessageSize, MaxReceiveMessageSize, cancellationToken);
    }
}
