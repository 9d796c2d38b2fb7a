using System.IO.Pipelines;
using Google.Protobuf;
using Microsoft.AspNetCore.Http;
using Snapshotter.Rpc.Protocol;

namespace Snapshotter.Rpc.Server;

/// <summary>The server side of one call: request reading and response writing over the HTTP/2 stream.</summary>
internal sealed class GrpcServerCall(HttpContext httpContext, GrpcServerOptions options, ServerCallContext context)
{
    public ServerCallContext Context { get; } = context;

    /// <summary>True once a response message went into the body; the status must then go in trailers.</summary>
    public bool MessagesWritten { get; private set; }

    /// <summary>Reads the request body, which must hold exactly one message.</summary>
    public async ValueTask<T> ReadSingleRequestAsync<T>(MessageParser<T> parser)
        where T : IMessage<T>
    {
        PipeReader reader = httpContext.Request.BodyReader;
        (bool hasMessage, T request) = await GrpcFraming.ReadMessageAsync(reader, parser, options.MaxReceiveMessageSize, Context.CancellationToken).ConfigureAwait(false);
        if (!hasMessage)
        {
            throw new RpcException(StatusCode.Internal, "request body has no message; a unary request needs exactly one");
        }

        (bool another, _) = await GrpcFraming.ReadMessageAsync(reader, parser, options.MaxReceiveMessageSize, Context.CancellationToken).ConfigureAwait(false);
        if (another)
        {
            throw new RpcException(StatusCode.Internal, "request body has more than one message; a unary request needs exactly one");
        }

        return request;
    }

    public async ValueTask WriteMessageAsync(IMessage message, CancellationToken cancellationToken)
    {
        PipeWriter writer = httpContext.Response.BodyWriter;
        GrpcFraming.WriteMessage(writer, message, options.MaxSendMessageSize);
        MessagesWritten = true;
        if (cancellationToken.CanBeCanceled)
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(Context.CancellationToken, cancellationToken);
            await writer.FlushAsync(linked.Token).ConfigureAwait(false);
        }
        else
        {
            await writer.FlushAsync(Context.CancellationToken).ConfigureAwait(false);
        }
    }
}
