using Snapshotter.Fuse.Session;

namespace Snapshotter.Fuse;

public sealed partial class FuseServer
{
    private readonly Action<FuseReadOperation> _answerInterrupted;

    /// <summary>
    /// READ: clipped to the file size; an empty range is answered inline (EOF), anything else is handed to the read
    /// workers as a pooled <see cref="FuseReadOperation"/>, so the device reader goes straight back to the device.
    /// </summary>
    private void HandleRead(FuseDeviceReader reader, in FuseInHeader request, ReadOnlySpan<byte> body)
    {
        if (!TryReadBody(reader, request, body, out FuseReadIn read)
            || !TryFound(reader, request, _nodes.Get(request.NodeId), Errno.EBADF, out var node))
        {
            return;
        }

        var offset = (long)Math.Min(read.Offset, long.MaxValue);
        if (offset >= node.Size || read.ReadSize == 0)
        {
            ReplyBody(reader, request, 0);
            return;
        }

        var operation = _pool.Rent();
        var length = (int)Math.Min(Math.Min(read.ReadSize, (uint)operation.MaxRead), node.Size - offset);
        operation.Prepare(reader.Device, request.Unique, new FuseCaller(request.Pid), node, offset, length);
        if (!_inFlight.TryRegister(operation))
        {
            // Its INTERRUPT was read first by another reader: the reader is waiting for EINTR.
            operation.TryClaim();
            Statistics.CountInterruptedRead();
            operation.WriteReply(0, Errno.EINTR);
            _pool.Return(operation);
            return;
        }

        Interlocked.Increment(ref _outstandingReads);
        _workers.Enqueue(operation);
    }

    private void HandleInterrupt(ReadOnlySpan<byte> body)
    {
        if (body.Length < sizeof(ulong))
        {
            return;
        }

        var target = FuseWire.Read<ulong>(body);
        if (_inFlight.Interrupt(target, DateTime.UtcNow.Ticks, _answerInterrupted))
        {
            Log.Interrupted(_logger, target);
        }
    }

    void IFuseReadCompletion.Complete(FuseReadOperation operation, int filled, int errno)
    {
        if (operation.TryClaim())
        {
            // Counted before the reply is written: a reader woken by the reply sees the counters already updated.
            if (errno == 0)
            {
                Statistics.CountReadBytes(filled);
            }
            else if (errno == Errno.EINTR)
            {
                Statistics.CountInterruptedRead();
            }
            else
            {
                Statistics.CountReadError();
            }

            var result = operation.WriteReply(filled, errno);
            if (result != 0 && result != -Errno.ENOENT && result != -Errno.EBADF)
            {
                Log.ReplyFailed(_logger, operation.Unique, (uint)FuseOpcode.Read, Errno.Describe(result));
            }
        }

        _inFlight.Unregister(operation);
        _pool.Return(operation);
        Interlocked.Decrement(ref _outstandingReads);
    }
}
