namespace Snapshotter.Checks;

/// <summary>Names of filesystem magics (<c>statfs.f_type</c>, linux/magic.h) and which ones cachefiles can cache on.</summary>
internal static class FileSystemTypes
{
    private static readonly Dictionary<long, string> Names = new()
    {
        [0xEF53] = "ext4",
        [0x58465342] = "xfs",
        [0x9123683E] = "btrfs",
        [0x01021994] = "tmpfs",
        [0x794C7630] = "overlay",
        [0x65735546] = "fuse",
        [0x01021997] = "9p",
        [0x6969] = "nfs",
        [0x2FC12FC1] = "zfs",
        [0xF2F52010] = "f2fs",
        [0x858458F6] = "ramfs",
        [0xE0F5E1E2] = "erofs",
        [0x73717368] = "squashfs",
        [0xFF534D42] = "cifs",
        [0x4D44] = "vfat",
        [0x5346544E] = "ntfs",
        [0x3153464A] = "jfs",
        [0x52654973] = "reiserfs",
        [0x62656572] = "sysfs",
        [0x9FA0] = "proc",
    };

    /// <summary>The filesystems cachefiles on-demand binds on: they have user xattrs and O_TMPFILE, and are local.</summary>
    public static IReadOnlySet<string> CachefilesCapable { get; } = new HashSet<string>(StringComparer.Ordinal) { "ext4", "xfs", "btrfs" };

    /// <summary>The name of <paramref name="magic"/> (ext2/3/4 share one and are all served by ext4), or its hex value.</summary>
    public static string Name(long magic) => Names.TryGetValue(magic & 0xFFFFFFFF, out var name) ? name : $"0x{magic:x}";
}
