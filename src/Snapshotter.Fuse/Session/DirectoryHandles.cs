using Snapshotter.Fuse.Nodes;

namespace Snapshotter.Fuse.Session;

/// <summary>
/// Open directory handles: each OPENDIR takes a snapshot of the file list, so READDIR offsets stay consistent while
/// files are added or removed (offset = index into "." , "..", then the snapshot).
/// </summary>
internal sealed class DirectoryHandles
{
    private readonly Lock _lock = new();
    private readonly Dictionary<ulong, FuseNode[]> _open = [];
    private ulong _last;

    public ulong Open(FuseNode[] snapshot)
    {
        lock (_lock)
        {
            var handle = ++_last;
            _open.Add(handle, snapshot);
            return handle;
        }
    }

    public FuseNode[]? Get(ulong handle)
    {
        lock (_lock)
        {
            return _open.GetValueOrDefault(handle);
        }
    }

    public void Release(ulong handle)
    {
        lock (_lock)
        {
            _open.Remove(handle);
        }
    }
}
