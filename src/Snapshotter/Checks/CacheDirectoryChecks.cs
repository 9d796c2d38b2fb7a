using Snapshotter.Checks.Interop;

namespace Snapshotter.Checks;

/// <summary>
/// The cache directory's filesystem, as cachefiles on-demand needs it (ext4, xfs or btrfs: user xattrs and O_TMPFILE),
/// and its free space. Probed in a <see cref="ScratchDirectory"/> on it.
/// </summary>
internal static class CacheDirectoryChecks
{
    /// <summary>Less free space than this is a warning: blob-fetch downloads whole blobs, fscache and fuse cache every chunk read.</summary>
    public const long LowSpace = 1L << 30;

    private const string Requirement = "cachefiles on-demand (the fscache mode) needs the cache directory on ext4, xfs or btrfs";
    private const string MoveHint = "put cache_dir (--cache-dir) on an ext4, xfs or btrfs filesystem (not tmpfs, overlay or NFS)";

    public static IEnumerable<CheckResult> Run(string cacheDirectory, ScratchDirectory scratch)
    {
        var where = scratch.Probed == cacheDirectory ? cacheDirectory : $"{cacheDirectory} (not created yet; probed in {scratch.Probed})";
        var error = CheckCalls.StatFs(scratch.Path, out var magic, out var blockSize, out var blocks, out var available);
        if (error != 0)
        {
            yield return CheckResult.Warn("cache_dir.filesystem", $"statfs {where}: {CheckCalls.Describe(error)}", MoveHint);
        }
        else
        {
            var type = FileSystemTypes.Name(magic);
            yield return FileSystemTypes.CachefilesCapable.Contains(type)
                ? CheckResult.Ok("cache_dir.filesystem", $"{where} is on {type}")
                : CheckResult.Warn("cache_dir.filesystem", $"{where} is on {type}: {Requirement}", MoveHint);

            var free = (long)Math.Min(available * (ulong)blockSize, long.MaxValue);
            var total = (long)Math.Min(blocks * (ulong)blockSize, long.MaxValue);
            var space = $"{Cli.ProgressRenderer.FormatBytes(free)} free of {Cli.ProgressRenderer.FormatBytes(total)}";
            yield return free >= LowSpace
                ? CheckResult.Ok("cache_dir.free_space", space)
                : CheckResult.Warn("cache_dir.free_space", $"only {space}: cached chunks and downloaded blobs need room", "free space on the cache directory's filesystem or move cache_dir (--cache-dir)");
        }

        var probe = Path.Combine(scratch.Path, "xattr-probe");
        File.WriteAllBytes(probe, []);
        var xattr = CheckCalls.SetAndRemoveXattr(probe, "user.snapshotter.check");
        yield return xattr == 0
            ? CheckResult.Ok("cache_dir.user_xattr", "user.* extended attributes can be set and removed")
            : CheckResult.Warn("cache_dir.user_xattr", $"setting a user.* xattr failed ({CheckCalls.Describe(xattr)}): {Requirement} with user xattrs", MoveHint);

        var tmpfile = CheckCalls.OpenTmpFile(scratch.Path);
        yield return tmpfile == 0
            ? CheckResult.Ok("cache_dir.o_tmpfile", "O_TMPFILE files can be created")
            : CheckResult.Warn("cache_dir.o_tmpfile", $"open(O_TMPFILE) failed ({CheckCalls.Describe(tmpfile)}): {Requirement} with O_TMPFILE", MoveHint);
    }
}
