using Snapshotter.Fuse.Session;

namespace Snapshotter.Fuse;

public sealed partial class FuseServer
{
    private static ReadOnlySpan<byte> Dot => "."u8;

    private static ReadOnlySpan<byte> DotDot => ".."u8;

    private void HandleOpendir(FuseDeviceReader reader, in FuseInHeader request)
    {
        if (request.NodeId != FuseWire.RootId)
        {
            ReplyError(reader, request, Errno.ENOTDIR);
            return;
        }

        var reply = new FuseOpenOut { Fh = _directories.Open(_nodes.List()) };
        Reply(reader, request, in reply);
    }

    /// <summary>
    /// READDIR and READDIRPLUS of the root: entries from offset on ("." and ".." first), as many as fit in the
    /// requested size. READDIRPLUS entries of files count as lookups (the kernel will FORGET them); "." and ".." get
    /// node id 0, which tells the kernel to keep what it has.
    /// </summary>
    private void HandleReaddir(FuseDeviceReader reader, in FuseInHeader request, ReadOnlySpan<byte> body, bool plus)
    {
        if (!TryReadBody(reader, request, body, out FuseReadIn read)
            || !TryFound(reader, request, _directories.Get(read.Fh), Errno.EBADF, out var snapshot))
        {
            return;
        }

        var destination = ReplyBodySpan(reader);
        destination = destination[..Math.Min(destination.Length, (int)Math.Min(read.ReadSize, int.MaxValue))];
        var position = 0;
        var total = (ulong)snapshot.Length + 2;
        for (var index = read.Offset; index < total; index++)
        {
            var next = index + 1;
            bool appended;
            if (index < 2)
            {
                var name = index == 0 ? Dot : DotDot;
                appended = plus
                    ? FuseWire.TryAppendDirentPlus(destination, ref position, default, next, FuseWire.DtDir, name)
                    : FuseWire.TryAppendDirent(destination, ref position, FuseWire.RootId, next, FuseWire.DtDir, name);
            }
            else
            {
                var node = snapshot[index - 2];
                if (!plus)
                {
                    appended = FuseWire.TryAppendDirent(destination, ref position, node.Id, next, FuseWire.DtReg, node.NameBytes);
                }
                else if (position + FuseWire.DirentPlusSize(node.NameBytes.Length) > destination.Length)
                {
                    appended = false;
                }
                else
                {
                    // Only a node still known is handed out with attributes (and counted as looked up).
                    var entry = _nodes.TryAddLookup(node) ? EntryOf(node) : new FuseEntryOut { Attr = new FuseAttr { Ino = node.Id } };
                    appended = FuseWire.TryAppendDirentPlus(destination, ref position, in entry, next, FuseWire.DtReg, node.NameBytes);
                }
            }

            if (!appended)
            {
                break;
            }
        }

        ReplyBody(reader, request, position);
    }
}
