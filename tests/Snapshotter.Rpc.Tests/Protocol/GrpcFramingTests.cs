using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Google.Protobuf;
using Snapshotter.Rpc.Containerd.Snapshots;
using Snapshotter.Rpc.Protocol;

namespace Snapshotter.Rpc.Tests.Protocol;

public sealed class GrpcFramingTests
{
    private const int DefaultMax = 16 * 1024 * 1024;

    private static PrepareSnapshotRequest Request(string key) => new() { Key = key, Parent = "parent-" + key, Labels = { ["a"] = "b" } };

    private static byte[] Frame(params IMessage[] messages)
    {
        var writer = new ArrayBufferWriter<byte>();
        foreach (IMessage message in messages)
        {
            GrpcFraming.WriteMessage(writer, message, DefaultMax);
        }

        return writer.WrittenSpan.ToArray();
    }

    private static byte[] Header(byte flag, uint length)
    {
        var header = new byte[5];
        header[0] = flag;
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(1), length);
        return header;
    }

    private static async Task<List<PrepareSnapshotRequest>> ReadAllAsync(PipeReader reader, int max = DefaultMax)
    {
        var messages = new List<PrepareSnapshotRequest>();
        while (true)
        {
            (bool hasMessage, PrepareSnapshotRequest message) = await GrpcFraming.ReadMessageAsync(reader, PrepareSnapshotRequest.Parser, max);
            if (!hasMessage)
            {
                return messages;
            }

            messages.Add(message);
        }
    }

    [Fact]
    public void WriteMessage_Message_WritesFlagLengthAndPayload()
    {
        PrepareSnapshotRequest request = Request("k1");
        byte[] frame = Frame(request);

        Assert.Equal(0, frame[0]);
        Assert.Equal((uint)request.CalculateSize(), BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(1)));
        Assert.Equal(request.ToByteArray(), frame[5..]);
    }

    [Fact]
    public void WriteMessage_OverSendLimit_ThrowsResourceExhausted()
    {
        PrepareSnapshotRequest request = Request("k1");
        var ex = Assert.Throws<RpcException>(() => GrpcFraming.WriteMessage(new ArrayBufferWriter<byte>(), request, request.CalculateSize() - 1));
        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
    }

    [Fact]
    public async Task ReadMessageAsync_SingleMessage_ReturnsItThenEnd()
    {
        PipeReader reader = PipeReader.Create(new ReadOnlySequence<byte>(Frame(Request("one"))));

        List<PrepareSnapshotRequest> messages = await ReadAllAsync(reader);

        Assert.Equal([Request("one")], messages);
    }

    [Fact]
    public async Task ReadMessageAsync_SeveralMessagesInOneRead_ReturnsEachInOrder()
    {
        byte[] body = Frame(Request("a"), Request("b"), new PrepareSnapshotRequest(), Request("c"));
        var stream = new MemoryStream(body);
        PipeReader reader = PipeReader.Create(stream);

        List<PrepareSnapshotRequest> messages = await ReadAllAsync(reader);

        Assert.Equal([Request("a"), Request("b"), new PrepareSnapshotRequest(), Request("c")], messages);
    }

    [Fact]
    public async Task ReadMessageAsync_MessagesSplitByteByByte_ReassemblesThem()
    {
        byte[] body = Frame(Request("first"), Request(new string('x', 300)));
        var stream = new OneByteStream(body);
        PipeReader reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 16));

        List<PrepareSnapshotRequest> messages = await ReadAllAsync(reader);

        Assert.Equal([Request("first"), Request(new string('x', 300))], messages);
        Assert.True(stream.Reads >= body.Length, "the stream really was read one byte at a time");
    }

    [Fact]
    public async Task ReadMessageAsync_PipeFedInChunksConcurrently_ReassemblesThem()
    {
        byte[] body = Frame(Request("p1"), Request("p2"), Request("p3"));
        var pipe = new Pipe();
        Task<List<PrepareSnapshotRequest>> reading = ReadAllAsync(pipe.Reader);
        for (int i = 0; i < body.Length; i += 3)
        {
            await pipe.Writer.WriteAsync(body.AsMemory(i, Math.Min(3, body.Length - i)));
        }

        await pipe.Writer.CompleteAsync();

        Assert.Equal([Request("p1"), Request("p2"), Request("p3")], await reading);
    }

    [Fact]
    public async Task ReadMessageAsync_ZeroLengthMessage_ReturnsEmptyMessage()
    {
        byte[] body = Header(0, 0);
        PipeReader reader = PipeReader.Create(new ReadOnlySequence<byte>(body));

        (bool hasMessage, PrepareSnapshotRequest message) = await GrpcFraming.ReadMessageAsync(reader, PrepareSnapshotRequest.Parser, DefaultMax);
        (bool more, _) = await GrpcFraming.ReadMessageAsync(reader, PrepareSnapshotRequest.Parser, DefaultMax);

        Assert.True(hasMessage);
        Assert.Equal(new PrepareSnapshotRequest(), message);
        Assert.False(more);
    }

    [Fact]
    public async Task ReadMessageAsync_EmptyBody_ReturnsNoMessage()
    {
        PipeReader reader = PipeReader.Create(ReadOnlySequence<byte>.Empty);

        (bool hasMessage, _) = await GrpcFraming.ReadMessageAsync(reader, PrepareSnapshotRequest.Parser, DefaultMax);

        Assert.False(hasMessage);
    }

    [Fact]
    public async Task ReadMessageAsync_LengthExactlyMax_Accepted()
    {
        PrepareSnapshotRequest request = Request("exact");
        PipeReader reader = PipeReader.Create(new ReadOnlySequence<byte>(Frame(request)));

        List<PrepareSnapshotRequest> messages = await ReadAllAsync(reader, max: request.CalculateSize());

        Assert.Equal([request], messages);
    }

    [Fact]
    public async Task ReadMessageAsync_LengthMaxPlusOne_ThrowsResourceExhausted()
    {
        PrepareSnapshotRequest request = Request("exact");
        PipeReader reader = PipeReader.Create(new ReadOnlySequence<byte>(Frame(request)));

        var ex = await Assert.ThrowsAsync<RpcException>(() => ReadAllAsync(reader, max: request.CalculateSize() - 1));

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.Contains($"{request.CalculateSize()} vs. {request.CalculateSize() - 1}", ex.Detail);
    }

    [Fact]
    public async Task ReadMessageAsync_TruncatedHeader_ThrowsIncompleteMessage()
    {
        PipeReader reader = PipeReader.Create(new ReadOnlySequence<byte>(Header(0, 10)[..3]));

        var ex = await Assert.ThrowsAsync<RpcException>(() => ReadAllAsync(reader));

        Assert.Equal(StatusCode.Internal, ex.StatusCode);
        Assert.Equal("incomplete message", ex.Detail);
    }

    [Fact]
    public async Task ReadMessageAsync_TruncatedPayload_ThrowsIncompleteMessage()
    {
        byte[] frame = Frame(Request("truncated"));
        var stream = new OneByteStream(frame[..^2]);
        PipeReader reader = PipeReader.Create(stream);

        var ex = await Assert.ThrowsAsync<RpcException>(() => ReadAllAsync(reader));

        Assert.Equal(StatusCode.Internal, ex.StatusCode);
        Assert.Equal("incomplete message", ex.Detail);
    }

    [Fact]
    public async Task ReadMessageAsync_CompressedFlag_ThrowsInternal()
    {
        byte[] body = [.. Header(1, 2), 0x0A, 0x00];
        PipeReader reader = PipeReader.Create(new ReadOnlySequence<byte>(body));

        var ex = await Assert.ThrowsAsync<RpcException>(() => ReadAllAsync(reader));

        Assert.Equal(StatusCode.Internal, ex.StatusCode);
        Assert.Contains("compressed", ex.Detail);
    }

    [Fact]
    public async Task ReadMessageAsync_InvalidFlag_ThrowsInternal()
    {
        PipeReader reader = PipeReader.Create(new ReadOnlySequence<byte>(Header(7, 0)));

        var ex = await Assert.ThrowsAsync<RpcException>(() => ReadAllAsync(reader));

        Assert.Equal(StatusCode.Internal, ex.StatusCode);
        Assert.Contains("flag 7", ex.Detail);
    }

    [Fact]
    public async Task ReadMessageAsync_HugeDeclaredLengthOverMax_ThrowsWithoutWaitingForPayload()
    {
        // Only the header exists and the pipe is never completed: the limit must be checked from the header alone.
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(Header(0, 0xFFFF_FFF0));

        var ex = await Assert.ThrowsAsync<RpcException>(() => ReadAllAsync(pipe.Reader).WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
    }

    [Fact]
    public void ReadMessageAsync_HugeDeclaredLengthUnderMax_DoesNotAllocateDeclaredLength()
    {
        byte[] body = [.. Header(0, 1_500_000_000), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        PipeReader reader = PipeReader.Create(new MemoryStream(body));

        long before = GC.GetAllocatedBytesForCurrentThread();
        ValueTask<(bool, PrepareSnapshotRequest)> read = GrpcFraming.ReadMessageAsync(reader, PrepareSnapshotRequest.Parser, int.MaxValue);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // MemoryStream reads complete synchronously, so the whole read ran on this thread.
        Assert.True(read.IsCompleted);
        var ex = Assert.Throws<RpcException>(() => read.GetAwaiter().GetResult());
        Assert.Equal("incomplete message", ex.Detail);
        Assert.True(allocated < 1024 * 1024, $"allocated {allocated} bytes");
    }

    [Fact]
    public async Task ReadMessageAsync_GarbagePayload_ThrowsInternalParseError()
    {
        byte[] body = [.. Header(0, 2), 0xFF, 0xFF];
        PipeReader reader = PipeReader.Create(new ReadOnlySequence<byte>(body));

        var ex = await Assert.ThrowsAsync<RpcException>(() => ReadAllAsync(reader));

        Assert.Equal(StatusCode.Internal, ex.StatusCode);
        Assert.StartsWith("failed to parse message", ex.Detail);
    }

    [Fact]
    public void TryReadMessage_PartialPayload_ReturnsFalseAndLeavesBuffer()
    {
        byte[] frame = Frame(Request("partial"));
        var buffer = new ReadOnlySequence<byte>(frame[..^1]);

        bool complete = GrpcFraming.TryReadMessage(ref buffer, DefaultMax, out _);

        Assert.False(complete);
        Assert.Equal(frame.Length - 1, buffer.Length);
    }

    [Fact]
    public void TryReadMessage_TwoMessages_SlicesFirstAndAdvances()
    {
        byte[] first = Frame(Request("x"));
        byte[] both = [.. first, .. Frame(Request("y"))];
        var buffer = new ReadOnlySequence<byte>(both);

        Assert.True(GrpcFraming.TryReadMessage(ref buffer, DefaultMax, out ReadOnlySequence<byte> message));

        Assert.Equal(first[5..], message.ToArray());
        Assert.Equal(both.Length - first.Length, buffer.Length);
    }
}
