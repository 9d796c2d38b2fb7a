using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Google.Protobuf;

namespace Snapshotter.Rpc.Protocol;

/// <summary>
/// gRPC length-prefixed message framing: 1-byte compressed flag, 4-byte big-endian length, payload.
/// Message boundaries are unrelated to HTTP/2 DATA frames, so the reader works on a PipeReader
/// that may hold part of a message or several messages.
/// </summary>
internal static class GrpcFraming
{
    public const int HeaderSize = 5;

    /// <summary>
    /// Takes one complete message off the front of <paramref name="buffer"/>.
    /// Returns false (buffer unchanged) when more bytes are needed. The length is checked against
    /// the limit from the header alone, so a huge declared length never causes an allocation.
    /// </summary>
    public static bool TryReadMessage(ref ReadOnlySequence<byte> buffer, int maxMessageSize, out ReadOnlySequence<byte> message)
    {
        message = default;
        if (buffer.Length < HeaderSize)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[HeaderSize];
        buffer.Slice(0, HeaderSize).CopyTo(header);
        switch (header[0])
        {
            case 0:
                break;
            case 1:
                // We never advertise grpc-accept-encoding, so a compressed message is a peer bug (grpc-go answers INTERNAL too).
                throw new RpcException(StatusCode.Internal, "compressed message received but no grpc-encoding is supported");
            default:
                throw new RpcException(StatusCode.Internal, $"invalid compressed flag {header[0]} in message header");
        }

        uint length = BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
        if (length > (uint)maxMessageSize)
        {
            throw new RpcException(StatusCode.ResourceExhausted, $"received message larger than max ({length} vs. {maxMessageSize})");
        }

        if (buffer.Length - HeaderSize < length)
        {
            return false;
        }

        message = buffer.Slice(HeaderSize, length);
        buffer = buffer.Slice(message.End);
        return true;
    }

    /// <summary>
    /// Reads and parses the next message. Returns HasMessage=false when the body ended cleanly at a message
    /// boundary; throws <see cref="RpcException"/> (INTERNAL "incomplete message") when it ended inside one.
    /// </summary>
    public static async ValueTask<(bool HasMessage, T Message)> ReadMessageAsync<T>(PipeReader reader, MessageParser<T> parser, int maxMessageSize, CancellationToken cancellationToken = default)
        where T : IMessage<T>
    {
        while (true)
        {
            ReadResult result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            ReadOnlySequence<byte> payload;
            bool complete;
            try
            {
                complete = TryReadMessage(ref buffer, maxMessageSize, out payload);
            }
            catch
            {
                reader.AdvanceTo(buffer.Start);
                throw;
            }

            if (complete)
            {
                try
                {
                    return (true, parser.ParseFrom(payload));
                }
                catch (InvalidProtocolBufferException ex)
                {
                    throw new RpcException(StatusCode.Internal, "failed to parse message: " + ex.Message, ex);
                }
                finally
                {
                    reader.AdvanceTo(buffer.Start);
                }
            }

            if (result.IsCompleted || result.IsCanceled)
            {
                bool empty = buffer.IsEmpty;
                reader.AdvanceTo(buffer.End);
                return empty ? (false, default!) : throw new RpcException(StatusCode.Internal, "incomplete message");
            }

            // Consumed nothing, examined everything: the next ReadAsync waits for more bytes.
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>Writes the 5-byte header for an uncompressed message of <paramref name="length"/> bytes.</summary>
    public static void WriteHeader(Span<byte> destination, int length)
    {
        destination[0] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(destination[1..], (uint)length);
    }

    /// <summary>Writes one framed message straight into <paramref name="writer"/> (no intermediate copy).</summary>
    public static void WriteMessage(IBufferWriter<byte> writer, IMessage message, int maxMessageSize)
    {
        int size = message.CalculateSize();
        if (size > maxMessageSize)
        {
            throw new RpcException(StatusCode.ResourceExhausted, $"trying to send message larger than max ({size} vs. {maxMessageSize})");
        }

        WriteHeader(writer.GetSpan(HeaderSize), size);
        writer.Advance(HeaderSize);
        if (size > 0)
        {
            message.WriteTo(writer);
        }
    }
}
