using System.Text;

namespace Snapshotter.Fuse.Nodes;

/// <summary>
/// The flat root directory: names to nodes and node ids to nodes, under one lock (requests of all device readers
/// and <see cref="FuseServer.Add"/>/<see cref="FuseServer.Remove"/> calls meet here). Node ids start at 2 (1 is the
/// root) and are never reused, so a name removed and added again gets a new inode.
/// </summary>
internal sealed class FuseNodeTable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, FuseNode> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<ulong, FuseNode> _byId = [];
    private ulong _lastId = 1;

    /// <summary>Files currently in the directory.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _byName.Count;
            }
        }
    }

    /// <summary>Sum of the sizes of the files currently in the directory.</summary>
    public long TotalSize
    {
        get
        {
            lock (_lock)
            {
                long total = 0;
                foreach (var node in _byName.Values)
                {
                    total += node.Size;
                }

                return total;
            }
        }
    }

    public FuseNode Add(IFuseFile file, long nowUnixSeconds)
    {
        ArgumentNullException.ThrowIfNull(file);
        var name = file.Name;
        var bytes = ValidateName(name);
        ArgumentOutOfRangeException.ThrowIfNegative(file.Size);
        lock (_lock)
        {
            if (_byName.ContainsKey(name))
            {
                throw new InvalidOperationException($"a file named '{name}' is already served");
            }

            var node = new FuseNode(++_lastId, file, bytes, nowUnixSeconds);
            _byName.Add(name, node);
            _byId.Add(node.Id, node);
            return node;
        }
    }

    /// <summary>Takes the name out of the directory; the node lives on while the kernel still refers to it.</summary>
    public FuseNode? Remove(string name, out int backingIdToClose)
    {
        backingIdToClose = 0;
        lock (_lock)
        {
            if (!_byName.Remove(name, out var node))
            {
                return null;
            }

            node.Removed = true;
            backingIdToClose = DropIfDead(node);
            return node;
        }
    }

    /// <summary>LOOKUP: the node of <paramref name="name"/> with its lookup count raised, or null.</summary>
    public FuseNode? Lookup(string name)
    {
        lock (_lock)
        {
            if (!_byName.TryGetValue(name, out var node))
            {
                return null;
            }

            node.Lookups++;
            return node;
        }
    }

    /// <summary>Raises the lookup count of a node still known (READDIRPLUS entries count as lookups).</summary>
    public bool TryAddLookup(FuseNode node)
    {
        lock (_lock)
        {
            if (!_byId.ContainsKey(node.Id))
            {
                return false;
            }

            node.Lookups++;
            return true;
        }
    }

    public FuseNode? Get(ulong id)
    {
        lock (_lock)
        {
            return _byId.GetValueOrDefault(id);
        }
    }

    /// <summary>FORGET: lowers the lookup count; returns a backing id to close when the node died.</summary>
    public int Forget(ulong id, ulong count)
    {
        lock (_lock)
        {
            if (!_byId.TryGetValue(id, out var node))
            {
                return 0;
            }

            node.Lookups -= (long)Math.Min(count, long.MaxValue);
            return DropIfDead(node);
        }
    }

    /// <summary>
    /// OPEN bookkeeping. Passthrough and page-cache opens of one inode cannot coexist in the kernel, so passthrough
    /// is chosen only while the node has no page-cache open, and kept while it has passthrough opens.
    /// <paramref name="registerBacking"/> registers the backing file (called under the lock, at most once per node):
    /// it returns the kernel's backing id, or 0 when there is none.
    /// </summary>
    public bool BeginOpen(FuseNode node, bool wantPassthrough, Func<FuseNode, int> registerBacking)
    {
        lock (_lock)
        {
            var passthrough = false;
            if (node.PassthroughOpens > 0 && node.BackingId > 0)
            {
                passthrough = true;
            }
            else if (wantPassthrough && node.CachedOpens == 0)
            {
                if (node.BackingId == 0)
                {
                    node.BackingId = registerBacking(node);
                }

                passthrough = node.BackingId > 0;
            }

            if (passthrough)
            {
                node.PassthroughOpens++;
            }
            else
            {
                node.CachedOpens++;
            }

            return passthrough;
        }
    }

    /// <summary>RELEASE bookkeeping; returns a backing id to close when the node died.</summary>
    public int EndOpen(ulong id, bool passthrough)
    {
        lock (_lock)
        {
            if (!_byId.TryGetValue(id, out var node))
            {
                return 0;
            }

            if (passthrough)
            {
                node.PassthroughOpens = Math.Max(0, node.PassthroughOpens - 1);
            }
            else
            {
                node.CachedOpens = Math.Max(0, node.CachedOpens - 1);
            }

            return DropIfDead(node);
        }
    }

    /// <summary>The files in the directory now, in node-id order (for OPENDIR).</summary>
    public FuseNode[] List()
    {
        lock (_lock)
        {
            var nodes = _byName.Values.ToArray();
            Array.Sort(nodes, static (a, b) => a.Id.CompareTo(b.Id));
            return nodes;
        }
    }

    /// <summary>Empties the table (shutdown); returns the backing ids still registered.</summary>
    public List<int> Clear()
    {
        lock (_lock)
        {
            var backing = _byId.Values.Where(n => n.BackingId > 0).Select(n => n.BackingId).ToList();
            _byName.Clear();
            _byId.Clear();
            return backing;
        }
    }

    private int DropIfDead(FuseNode node)
    {
        if (!node.IsDead)
        {
            return 0;
        }

        _byId.Remove(node.Id);
        var backing = node.BackingId;
        node.BackingId = 0;
        return backing;
    }

    private static byte[] ValidateName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name is "." or ".." || name.Contains('/') || name.Contains('\0'))
        {
            throw new ArgumentException($"'{name}' is not a valid file name (no '/', NUL, '.' or '..')", nameof(name));
        }

        var bytes = Encoding.UTF8.GetBytes(name);
        if (bytes.Length > 255)
        {
            throw new ArgumentException($"file name '{name}' is longer than 255 bytes", nameof(name));
        }

        return bytes;
    }
}
