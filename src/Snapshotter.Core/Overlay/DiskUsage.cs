using Snapshotter.Core.Interop;
using Snapshotter.Core.Snapshots;
using Tmds.Linux;

namespace Snapshotter.Core.Overlay;

/// <summary>Bytes and inodes a directory tree uses on disk, like containerd's <c>fs.DiskUsage</c>.</summary>
internal static class DiskUsage
{
    /// <summary>
    /// Sums st_blocks*512 over every inode under <paramref name="root"/> (itself included), counting hard links
    /// once and never following symlinks.
    /// </summary>
    public static SnapshotUsage Compute(string root, CancellationToken cancellationToken = default)
    {
        var seen = new HashSet<(uint, uint, ulong)>();
        long size = 0;
        long inodes = 0;
        var pending = new Stack<string>();
        pending.Push(root);
        Account(Syscalls.LStatx(root));
        while (pending.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var dir = pending.Pop();
            IEnumerable<string> entries;
            try
            {
                entries = Directory.EnumerateFileSystemEntries(dir);
            }
            catch (DirectoryNotFoundException)
            {
                // Deleted while we walk a live (active) snapshot: it no longer uses space.
                continue;
            }

            foreach (var entry in entries)
            {
                if (!Syscalls.TryLStatx(entry, out var st))
                {
                    continue;
                }

                if (Account(st))
                {
                    pending.Push(entry);
                }
            }
        }

        return new SnapshotUsage(size, inodes);

        // Returns true when the inode is a directory to descend into.
        bool Account(in statx st)
        {
            var directory = LibC.S_ISDIR(st.stx_mode);
            if (st.stx_nlink > 1 && !directory && !seen.Add((st.stx_dev_major, st.stx_dev_minor, st.stx_ino)))
            {
                return false;
            }

            inodes++;
            size += (long)st.stx_blocks * 512;
            return directory;
        }
    }
}
