using System.Text;
using Snapshotter.Fuse.Interop;
using Snapshotter.Fuse.Nodes;
using Snapshotter.Fuse.Session;
using Tmds.Linux;

namespace Snapshotter.Fuse;

public sealed partial class FuseServer
{
    /// <summary>
    /// INIT flags asked for (each only when the kernel offers it):
    /// ASYNC_READ: readahead READs are sent in parallel without waiting for each other.
    /// PARALLEL_DIROPS: lookups and readdirs of the root are not serialized on its inode lock.
    /// MAX_PAGES: READs of up to max_pages pages (1 MiB) instead of 32 pages.
    /// DO_READDIRPLUS + READDIRPLUS_AUTO: `ls -l` gets names and attributes in one round trip.
    /// ABORT_ERROR: an aborted connection reads as ECONNABORTED, told apart from an unmount (ENODEV).
    /// Plus ASYNC_DIO and PASSTHROUGH when the options ask for them. Not asked: WRITEBACK_CACHE, locks, splice,
    /// EXPORT_SUPPORT, AUTO_INVAL_DATA (files never change, so nothing is ever invalidated by attributes).
    /// </summary>
    private const FuseInitFlags WantedFlags = FuseInitFlags.AsyncRead | FuseInitFlags.ParallelDirops | FuseInitFlags.MaxPages
        | FuseInitFlags.DoReaddirplus | FuseInitFlags.ReaddirplusAuto | FuseInitFlags.AbortError;

    private const int DefaultMaxPages = 32;

    private void HandleInit(FuseDeviceReader reader, in FuseInHeader request, ReadOnlySpan<byte> body)
    {
        if (!FuseWire.TryReadInitIn(body, out var init))
        {
            Log.Malformed(_logger, request.Unique, request.Opcode, body.Length);
            ReplyError(reader, request, Errno.EINVAL);
            return;
        }

        if (init.Major != FuseWire.KernelMajor || init.Minor < FuseWire.OldestMinor)
        {
            // A newer major would re-send INIT after we answer with ours; older protocols are not supported.
            ReplyError(reader, request, Errno.EPROTO);
            _initialized.TrySetException(new IOException($"the kernel speaks FUSE {init.Major}.{init.Minor}; 7.{FuseWire.OldestMinor}+ is needed"));
            return;
        }

        var wanted = WantedFlags;
        if (_options.AsyncDirectIo)
        {
            wanted |= FuseInitFlags.AsyncDio;
        }

        if (_options.Passthrough)
        {
            wanted |= FuseInitFlags.Passthrough;
        }

        var flags = wanted & init.AllFlags;
        var maxPages = (flags & FuseInitFlags.MaxPages) != 0 ? _options.MaxPages : Math.Min(DefaultMaxPages, _options.MaxPages);
        var reply = new FuseInitOut
        {
            Major = FuseWire.KernelMajor,
            Minor = Math.Min(init.Minor, FuseWire.KernelMinor),
            // The kernel offers its bdi's readahead (128 KiB by default) and keeps the smaller of both; the bdi is
            // raised to ours right after mounting (RaiseBdiReadahead), so ask for ours rather than the offer.
            MaxReadahead = (uint)_options.MaxReadahead,
            MaxBackground = (ushort)Math.Clamp(_options.MaxBackground, 1, ushort.MaxValue),
            CongestionThreshold = (ushort)Math.Clamp(_options.MaxBackground * 3 / 4, 1, ushort.MaxValue),
            MaxWrite = MaxWrite,
            TimeGran = 1,
            MaxPages = (ushort)maxPages,

            // The backing files sit on a plain filesystem (depth 0), so passthrough makes this mount depth 1.
            MaxStackDepth = (flags & FuseInitFlags.Passthrough) != 0 ? 1u : 0u,
        };
        reply.SetFlags(flags);
        var negotiation = new FuseNegotiation(init.Minor, reply.Minor, flags, maxPages, reply.MaxReadahead);
        Reply(reader, request, in reply);
        Log.Initialized(_logger, _mountPoint, negotiation.Minor, init.Minor, flags.ToString(), maxPages, reply.MaxReadahead, negotiation.Passthrough);
        _initialized.TrySetResult(negotiation);
    }

    private void HandleLookup(FuseDeviceReader reader, in FuseInHeader request, ReadOnlySpan<byte> body)
    {
        if (request.NodeId != FuseWire.RootId)
        {
            ReplyError(reader, request, Errno.ENOTDIR);
            return;
        }

        var name = FuseWire.ReadName(body);
        if (!TryFound(reader, request, name.IsEmpty ? null : _nodes.Lookup(Encoding.UTF8.GetString(name)), Errno.ENOENT, out var node))
        {
            return;
        }

        var entry = EntryOf(node);
        Reply(reader, request, in entry);
    }

    private void HandleBatchForget(ReadOnlySpan<byte> body)
    {
        if (body.Length < 8)
        {
            return;
        }

        var count = FuseWire.Read<uint>(body);
        var entries = body[8..];
        for (var i = 0; i < count && (i + 1) * FuseForgetOne.Size <= entries.Length; i++)
        {
            var one = FuseWire.Read<FuseForgetOne>(entries[(i * FuseForgetOne.Size)..]);
            CloseBacking(_nodes.Forget(one.NodeId, one.Nlookup));
        }
    }

    private void HandleGetattr(FuseDeviceReader reader, in FuseInHeader request)
    {
        FuseAttr attr;
        if (request.NodeId == FuseWire.RootId)
        {
            attr = RootAttr();
        }
        else if (_nodes.Get(request.NodeId) is { } node)
        {
            attr = AttrOf(node);
        }
        else
        {
            ReplyError(reader, request, Errno.ENOENT);
            return;
        }

        var (seconds, nanoseconds) = FuseWire.SplitTimeout(_options.AttributeTimeout);
        var reply = new FuseAttrOut { AttrValid = seconds, AttrValidNsec = nanoseconds, Attr = attr };
        Reply(reader, request, in reply);
    }

    private void HandleOpen(FuseDeviceReader reader, in FuseInHeader request, ReadOnlySpan<byte> body)
    {
        if (request.NodeId == FuseWire.RootId)
        {
            ReplyError(reader, request, Errno.EISDIR);
            return;
        }

        if (!TryFound(reader, request, _nodes.Get(request.NodeId), Errno.ENOENT, out var node))
        {
            return;
        }

        if (!TryReadBody(reader, request, body, out FuseOpenIn open))
        {
            return;
        }

        if ((open.Flags & (uint)LibC.O_ACCMODE) != (uint)LibC.O_RDONLY)
        {
            ReplyError(reader, request, Errno.EROFS);
            return;
        }

        var device = reader.Device;
        var wantPassthrough = _options.Passthrough && Negotiation.Passthrough;
        var passthrough = _nodes.BeginOpen(node, wantPassthrough, n => RegisterBacking(device, n));
        var reply = new FuseOpenOut { Fh = (node.Id << 1) | (passthrough ? 1UL : 0UL) };
        if (passthrough)
        {
            reply.OpenFlags = (uint)FuseOpenFlags.Passthrough;
            reply.BackingId = node.BackingId;
            Statistics.CountPassthroughOpen();
        }
        else if (_options.KeepCache)
        {
            reply.OpenFlags = (uint)FuseOpenFlags.KeepCache;
        }

        // Nothing is ever written, so no FLUSH on close (7.35+; older kernels get ENOSYS once and stop asking).
        if (Negotiation.Minor >= 35)
        {
            reply.OpenFlags |= (uint)FuseOpenFlags.NoFlush;
        }

        Reply(reader, request, in reply);
    }

    private void HandleRelease(FuseDeviceReader reader, in FuseInHeader request, ReadOnlySpan<byte> body)
    {
        if (body.Length >= FuseReleaseIn.Size)
        {
            var release = FuseWire.Read<FuseReleaseIn>(body);
            CloseBacking(_nodes.EndOpen(release.Fh >> 1, (release.Fh & 1) != 0));
        }

        ReplyError(reader, request, 0);
    }

    private void HandleStatfs(FuseDeviceReader reader, in FuseInHeader request)
    {
        const uint blockSize = 4096;
        var reply = new FuseKstatfs
        {
            Blocks = (ulong)((_nodes.TotalSize + blockSize - 1) / blockSize),
            Files = (ulong)_nodes.Count + 1,
            Bsize = blockSize,
            Frsize = blockSize,
            Namelen = 255,
        };
        Reply(reader, request, in reply);
    }

    private FuseEntryOut EntryOf(FuseNode node)
    {
        var (seconds, nanoseconds) = FuseWire.SplitTimeout(_options.AttributeTimeout);
        return new FuseEntryOut
        {
            NodeId = node.Id,
            Generation = 0,
            EntryValid = seconds,
            EntryValidNsec = nanoseconds,
            AttrValid = seconds,
            AttrValidNsec = nanoseconds,
            Attr = AttrOf(node),
        };
    }

    private static FuseAttr AttrOf(FuseNode node) =>
        Attr(node.Id, node.CreatedUnixSeconds, FuseWire.SIfReg | 0x124, nlink: 1, node.Size); // 0444

    private FuseAttr RootAttr() => Attr(FuseWire.RootId, _startUnixSeconds, FuseWire.SIfDir | 0x16D, nlink: 2, size: 0); // 0555

    /// <summary>Attributes of a node of this read-only tree: every time is its creation time, owned by root, page-size blocks.</summary>
    private static FuseAttr Attr(ulong ino, long unixSeconds, uint mode, uint nlink, long size)
    {
        var time = (ulong)unixSeconds;
        return new FuseAttr
        {
            Ino = ino,
            FileSize = (ulong)size,
            Blocks = (ulong)((size + 511) / 512),
            Atime = time,
            Mtime = time,
            Ctime = time,
            Mode = mode,
            Nlink = nlink,
            Blksize = NativeBuffer.PageSize,
        };
    }

    /// <summary>Registers the file's local copy as a passthrough backing file; returns its id, or 0.</summary>
    private unsafe int RegisterBacking(SafeFdHandle device, FuseNode node)
    {
        var handle = node.File.GetPassthroughHandle();
        if (handle is null || handle.IsInvalid || handle.IsClosed)
        {
            return 0;
        }

        var added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            var map = new FuseBackingMap { Fd = (int)handle.DangerousGetHandle() };
            var id = Syscalls.Ioctl(device, FuseWire.DevIocBackingOpen, &map);
            if (id <= 0)
            {
                Log.PassthroughRefused(_logger, node.File.Name, Errno.Describe(id));
                return 0;
            }

            return id;
        }
        finally
        {
            handle.DangerousRelease();
        }
    }

    private unsafe void CloseBacking(int backingId)
    {
        if (backingId <= 0 || _session.IsClosed)
        {
            return;
        }

        var id = (uint)backingId;
        Syscalls.Ioctl(_session, FuseWire.DevIocBackingClose, &id);
    }

    /// <summary>FUSE_NOTIFY_INVAL_ENTRY for a removed name, so the kernel stops resolving it from its cache.</summary>
    private unsafe void InvalidateEntry(FuseNode node)
    {
        if (!_initialized.Task.IsCompletedSuccessfully || _session.IsClosed)
        {
            return;
        }

        var message = stackalloc byte[FuseOutHeader.Size + FuseNotifyInvalEntryOut.Size + 256];
        var length = FuseWire.WriteInvalEntry(new Span<byte>(message, FuseOutHeader.Size + FuseNotifyInvalEntryOut.Size + 256), FuseWire.RootId, node.NameBytes);
        var result = Syscalls.Write(_session, message, length);

        // ENOENT: the kernel had not cached the name.
        if (result != 0 && result != -Errno.ENOENT)
        {
            Log.InvalidateFailed(_logger, node.File.Name, Errno.Describe(result));
        }
    }
}
