using System.Diagnostics.CodeAnalysis;
using Snapshotter.Fuse.Interop;
using Snapshotter.Fuse.Session;
using Tmds.Linux;

namespace Snapshotter.Fuse;

public sealed partial class FuseServer
{
    // Requests are small for a read-only tree, but the kernel refuses read buffers below max_write + headers.
    private const int RequestBufferSize = MaxWrite + NativeBuffer.PageSize;

    private unsafe void StartReaders()
    {
        var replySize = FuseOutHeader.Size + _options.MaxPages * NativeBuffer.PageSize;
        for (var i = 0; i < _options.ReaderThreads; i++)
        {
            SafeFdHandle device;
            try
            {
                device = i == 0 ? _session : CloneSession();
            }
            catch
            {
                // No reader runs yet: the session is over before it started.
                _completion.TrySetResult();
                throw;
            }

            _readers.Add(new FuseDeviceReader(i, device, RequestBufferSize, replySize));
        }

        _runningReaders = _readers.Count;
        foreach (var reader in _readers)
        {
            reader.Thread = new Thread(() => ReaderLoop(reader)) { IsBackground = true, Name = $"fuse-reader-{reader.Index}" };
            reader.Thread.Start();
        }
    }

    /// <summary>A second fd of the same connection (FUSE_DEV_IOC_CLONE): each reader gets its own processing queue.</summary>
    private unsafe SafeFdHandle CloneSession()
    {
        var clone = Syscalls.Open(_options.DevicePath, LibC.O_RDWR | LibC.O_NONBLOCK);
        var sessionFd = (uint)_session.Fd;
        var result = Syscalls.Ioctl(clone, FuseWire.DevIocClone, &sessionFd);
        if (result < 0)
        {
            clone.Dispose();
            throw new SyscallException("ioctl(FUSE_DEV_IOC_CLONE)", -result, _options.DevicePath);
        }

        return clone;
    }

    private unsafe void ReaderLoop(FuseDeviceReader reader)
    {
        string? reason = null;
        try
        {
            while (reason is null)
            {
                var n = Syscalls.Read(reader.Device, reader.Request.Pointer, reader.Request.Length);
                if (n > 0)
                {
                    Dispatch(reader, n);
                    continue;
                }

                if (n == -Errno.EAGAIN)
                {
                    var ready = Syscalls.PollTwo(reader.Device, _wake);
                    if (ready < 0)
                    {
                        reason = $"poll failed: {Errno.Describe(ready)}";
                    }
                    else if ((ready & 2) != 0)
                    {
                        reason = _endReason ?? "stopped";
                    }

                    continue;
                }

                if (n == -Errno.ENOENT)
                {
                    // The request was aborted or interrupted while being copied out: read the next one.
                    continue;
                }

                reason = n == -Errno.ENODEV ? "unmounted (ENODEV)"
                    : n == -Errno.ECONNABORTED ? "connection aborted (ECONNABORTED)"
                    : $"read failed: {Errno.Describe(n)}";
            }
        }
        catch (Exception e)
        {
            reason = $"reader failed: {e.Message}";
            Log.ReaderFailed(_logger, _mountPoint, e.ToString());
        }

        if (Interlocked.Decrement(ref _runningReaders) == 0)
        {
            // Wake any reader still in poll (the connection is gone for all of them) and end the session.
            _endReason ??= reason;
            Log.SessionEnded(_logger, _mountPoint, _endReason);
            _initialized.TrySetException(new IOException($"the FUSE session on {_mountPoint} ended before INIT: {_endReason}"));
            _completion.TrySetResult();
        }
        else
        {
            _endReason ??= reason;
            Syscalls.Signal(_wake);
        }
    }

    private unsafe void Dispatch(FuseDeviceReader reader, int length)
    {
        var request = new ReadOnlySpan<byte>(reader.Request.Pointer, length);
        if (length < FuseInHeader.Size)
        {
            Log.Malformed(_logger, 0, 0, length);
            return;
        }

        var header = FuseWire.Read<FuseInHeader>(request);
        var body = request[FuseInHeader.Size..(int)Math.Min(header.Len, (uint)length)];
        Statistics.CountRequest(header.Opcode);
        switch ((FuseOpcode)header.Opcode)
        {
            case FuseOpcode.Init:
                HandleInit(reader, header, body);
                break;
            case FuseOpcode.Lookup:
                HandleLookup(reader, header, body);
                break;
            case FuseOpcode.Forget:
                HandleForget(header, body);
                break;
            case FuseOpcode.BatchForget:
                HandleBatchForget(body);
                break;
            case FuseOpcode.Getattr:
                HandleGetattr(reader, header);
                break;
            case FuseOpcode.Open:
                HandleOpen(reader, header, body);
                break;
            case FuseOpcode.Read:
                HandleRead(reader, header, body);
                break;
            case FuseOpcode.Release:
                HandleRelease(reader, header, body);
                break;
            case FuseOpcode.Opendir:
                HandleOpendir(reader, header);
                break;
            case FuseOpcode.Readdir:
                HandleReaddir(reader, header, body, plus: false);
                break;
            case FuseOpcode.Readdirplus:
                HandleReaddir(reader, header, body, plus: true);
                break;
            case FuseOpcode.Releasedir:
                HandleReleasedir(reader, header, body);
                break;
            case FuseOpcode.Statfs:
                HandleStatfs(reader, header);
                break;
            case FuseOpcode.Interrupt:
                HandleInterrupt(body);
                break;
            case FuseOpcode.Destroy:
                HandleDestroy(reader, header);
                break;
            case FuseOpcode.NotifyReply:
                // A reply to a retrieve notification; this server never sends one, and a reply must not be answered.
                break;
            default:
                // ENOSYS makes the kernel stop asking (xattrs, flush, statx, lseek, ...).
                ReplyError(reader, header, Errno.ENOSYS);
                break;
        }
    }

    private void HandleForget(in FuseInHeader request, ReadOnlySpan<byte> body)
    {
        if (body.Length >= sizeof(ulong))
        {
            CloseBacking(_nodes.Forget(request.NodeId, FuseWire.Read<ulong>(body)));
        }
    }

    private void HandleReleasedir(FuseDeviceReader reader, in FuseInHeader request, ReadOnlySpan<byte> body)
    {
        if (body.Length >= FuseReleaseIn.Size)
        {
            _directories.Release(FuseWire.Read<FuseReleaseIn>(body).Fh);
        }

        ReplyError(reader, request, 0);
    }

    private void HandleDestroy(FuseDeviceReader reader, in FuseInHeader request)
    {
        ReplyError(reader, request, 0);
        _endReason ??= "DESTROY";
    }

    /// <summary>Reads a request's fixed-size body; one shorter than <typeparamref name="T"/> is answered with EINVAL.</summary>
    private unsafe bool TryReadBody<T>(FuseDeviceReader reader, in FuseInHeader request, ReadOnlySpan<byte> body, out T value)
        where T : unmanaged
    {
        if (body.Length < sizeof(T))
        {
            ReplyError(reader, request, Errno.EINVAL);
            value = default;
            return false;
        }

        value = FuseWire.Read<T>(body);
        return true;
    }

    /// <summary>
    /// The common handler check for the node or handle a request names: false, after replying <paramref name="errno"/>,
    /// when <paramref name="found"/> is null (it was forgotten, released or never existed).
    /// </summary>
    private bool TryFound<T>(FuseDeviceReader reader, in FuseInHeader request, T? found, int errno, [NotNullWhen(true)] out T? value)
        where T : class
    {
        value = found;
        if (value is null)
        {
            ReplyError(reader, request, errno);
            return false;
        }

        return true;
    }

    private unsafe void ReplyError(FuseDeviceReader reader, in FuseInHeader request, int errno)
    {
        FuseWire.WriteOutHeader(new Span<byte>(reader.Reply.Pointer, FuseOutHeader.Size), request.Unique, -errno, 0);
        WriteReply(reader, request, FuseOutHeader.Size);
    }

    /// <summary>Replies with a body already written after the header slot of the reader's reply buffer.</summary>
    private unsafe void ReplyBody(FuseDeviceReader reader, in FuseInHeader request, int bodyLength)
    {
        FuseWire.WriteOutHeader(new Span<byte>(reader.Reply.Pointer, FuseOutHeader.Size), request.Unique, 0, bodyLength);
        WriteReply(reader, request, FuseOutHeader.Size + bodyLength);
    }

    private unsafe void Reply<T>(FuseDeviceReader reader, in FuseInHeader request, in T body)
        where T : unmanaged
    {
        FuseWire.Write(new Span<byte>(reader.Reply.Pointer + FuseOutHeader.Size, sizeof(T)), in body);
        ReplyBody(reader, request, sizeof(T));
    }

    private unsafe void WriteReply(FuseDeviceReader reader, in FuseInHeader request, int length)
    {
        var result = Syscalls.Write(reader.Device, reader.Reply.Pointer, length);

        // ENOENT: the request was interrupted and already answered or abandoned by the kernel.
        if (result != 0 && result != -Errno.ENOENT)
        {
            Log.ReplyFailed(_logger, request.Unique, request.Opcode, Errno.Describe(result));
        }
    }

    private static Span<byte> ReplyBodySpan(FuseDeviceReader reader) => reader.Reply.GetSpan()[FuseOutHeader.Size..];
}
