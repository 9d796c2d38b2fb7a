using Snapshotter.Fuse.Interop;
using Snapshotter.Fuse.Nodes;

namespace Snapshotter.Fuse.Session;

/// <summary>
/// One READ in flight, pooled with its reply buffer: the data lands page-aligned at <see cref="HeaderRoom"/> and the
/// reply header is written right in front of it, so the reply is a single write(2). Runs on a read worker (the
/// device readers never wait for it). Exactly one reply is written: whoever wins <see cref="TryClaim"/> (the read's
/// completion or an INTERRUPT) writes it.
/// </summary>
internal sealed class FuseReadOperation : IThreadPoolWorkItem, IDisposable
{
    /// <summary>Bytes before the data: one page, so data is page-aligned; the header takes its last 16 bytes.</summary>
    public const int HeaderRoom = NativeBuffer.PageSize;

    private readonly IFuseReadCompletion _owner;
    private readonly NativeBuffer _buffer;
    private CancellationTokenSource _cancellation = new();
    private int _claimed;

    public FuseReadOperation(IFuseReadCompletion owner, int maxRead)
    {
        _owner = owner;
        MaxRead = maxRead;
        _buffer = new NativeBuffer(HeaderRoom + maxRead);
    }

    public int MaxRead { get; }

    public ulong Unique { get; private set; }

    public SafeFdHandle Device { get; private set; } = null!;

    public FuseNode Node { get; private set; } = null!;

    public long Offset { get; private set; }

    public int Length { get; private set; }

    public FuseCaller Caller { get; private set; }

    public void Prepare(SafeFdHandle device, ulong unique, FuseCaller caller, FuseNode node, long offset, int length)
    {
        Device = device;
        Unique = unique;
        Caller = caller;
        Node = node;
        Offset = offset;
        Length = length;
        _claimed = 0;
        if (!_cancellation.TryReset())
        {
            // Cancelled by an INTERRUPT or shutdown: a cancelled source cannot be reset (rare, so allocating is fine).
            _cancellation.Dispose();
            _cancellation = new CancellationTokenSource();
        }
    }

    /// <summary>Wins the right to write this request's only reply.</summary>
    public bool TryClaim() => Interlocked.Exchange(ref _claimed, 1) == 0;

    /// <summary>Cancels the file's read. Callers must not touch the operation afterwards (it may be back in the pool).</summary>
    public void Cancel() => _cancellation.Cancel();

    void IThreadPoolWorkItem.Execute() => _ = RunAsync();

    /// <summary>Writes the reply: the data read (<paramref name="errno"/> 0) or the error alone. Returns 0 or -errno.</summary>
    public unsafe int WriteReply(int filled, int errno)
    {
        var header = _buffer.Pointer + HeaderRoom - FuseOutHeader.Size;
        var body = errno == 0 ? filled : 0;
        FuseWire.WriteOutHeader(new Span<byte>(header, FuseOutHeader.Size), Unique, -errno, body);
        return Syscalls.Write(Device, header, FuseOutHeader.Size + body);
    }

    public void Dispose()
    {
        ((IDisposable)_buffer).Dispose();
        _cancellation.Dispose();
    }

    // A Task, not a pooled ValueTask: nobody awaits the run (the work item starts it and the reply reports its end),
    // and a pooled box goes back to its pool only when its result is taken, so pooling never reused one here (CA2012).
    // A READ that completes synchronously (cached data) gets the cached completed Task without allocating; one that
    // waits allocates its state machine once, as the never-returned pooled box did.
    private async Task RunAsync()
    {
        var filled = 0;
        var errno = 0;
        var token = _cancellation.Token;
        try
        {
            var data = _buffer.Memory.Slice(HeaderRoom, Length);
            while (filled < Length)
            {
                var result = await Node.File.ReadAsync(Offset + filled, data[filled..], Caller, token).ConfigureAwait(false);
                if (result.IsError)
                {
                    errno = result.Errno;
                    Log.ReadFailed(_owner.Logger, Node.File.Name, Offset, Length, errno);
                    break;
                }

                if (result.BytesRead <= 0 || result.BytesRead > Length - filled)
                {
                    // A short file would make the kernel shrink its idea of the size: fail the read instead.
                    errno = Errno.EIO;
                    Log.ShortRead(_owner.Logger, Node.File.Name, Offset + filled, result.BytesRead, Node.Size);
                    break;
                }

                filled += result.BytesRead;
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            errno = Errno.EINTR;
        }
        catch (Exception e)
        {
            errno = Errno.EIO;
            Log.ReadThrew(_owner.Logger, e, Node.File.Name, Offset, Length);
        }

        _owner.Complete(this, filled, errno);
    }
}
