using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using Snapshotter.Rpc.Protocol;

namespace Snapshotter.Rpc.Client;

/// <summary>A request body holding one framed message, serialized into one pooled buffer.</summary>
internal sealed class GrpcMessageContent : HttpContent
{
    private static readonly MediaTypeHeaderValue GrpcMediaType = new(GrpcProtocol.ContentType);
    private readonly IMessage _message;
    private readonly int _size;

    public GrpcMessageContent(IMessage message, int maxMessageSize)
    {
        _message = message;
        _size = message.CalculateSize();
        if (_size > maxMessageSize)
        {
            throw new RpcException(StatusCode.ResourceExhausted, $"trying to send message larger than max ({_size} vs. {maxMessageSize})");
        }

        Headers.ContentType = GrpcMediaType;
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        int length = GrpcFraming.HeaderSize + _size;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            GrpcFraming.WriteHeader(buffer, _size);
            _message.WriteTo(buffer.AsSpan(GrpcFraming.HeaderSize, _size));
            await stream.WriteAsync(buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = GrpcFraming.HeaderSize + _size;
        return true;
    }
}
