namespace Snapshotter.Cachefiles.Daemon;

/// <summary>Mounts and unmounts EROFS over fscache (on-demand mode).</summary>
public static class ErofsMounter
{
    /// <summary>
    /// <c>mount("none", dir, "erofs", 0, "fsid=&lt;fsid&gt;[,domain_id=&lt;domain&gt;]")</c>. The daemon must be serving:
    /// the kernel OPENs and READs the bootstrap during the mount.
    /// </summary>
    public static void Mount(string fsid, string? domainId, string mountPoint)
    {
        var data = domainId is null ? $"fsid={fsid}" : $"fsid={fsid},domain_id={domainId}";
        MountCalls.Mount("none", mountPoint, "erofs", 0, data);
    }

    /// <summary>Unmounts; with <paramref name="detach"/> a busy mount is lazily detached.</summary>
    public static void Unmount(string mountPoint, bool detach = false)
    {
        var result = MountCalls.Unmount(mountPoint, detach);
        if (result != 0)
        {
            throw new SyscallException("umount2", -result, mountPoint);
        }
    }
}
