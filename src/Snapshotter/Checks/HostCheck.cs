
namespace Snapshotter.Checks;

/// <summary>
/// Runs every check of <c>snapshotter check</c> for a configuration (the one <c>serve</c> would load): the kernel and
/// privileges, what serve needs to start (root, socket, overlayfs), the lazy modes and the one serve picks, the cache
/// directory's filesystem, containerd's config. Probes leave nothing behind (scratch directories are removed, test
/// mounts unmounted, the cachefiles device released).
/// </summary>
internal static class HostCheck
{
    public static CheckReport Run(SnapshotterConfig config, string containerdConfig, string cachefilesDevice = "/dev/cachefiles")
    {
        var results = new List<CheckResult> { HostChecks.Kernel(), HostChecks.Privileges() };
        results.Add(ServeChecks.RootDirectory(config.Root));
        results.Add(ServeChecks.Socket(config.Address));
        results.Add(ServeChecks.Overlayfs(config.Root));

        var cacheDirectory = config.CacheDir!;
        string mode, reason;
        ScratchDirectory? scratch = null;
        try
        {
            scratch = ScratchDirectory.Create(cacheDirectory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            results.Add(CheckResult.Warn(
                "cache_dir",
                $"{cacheDirectory} cannot be written ({e.Message}): lazy pulling is off",
                "make cache_dir (--cache-dir) a writable local directory"));
        }

        if (scratch is null)
        {
            (mode, reason) = ("off", $"the cache directory {cacheDirectory} cannot be written");
        }
        else
        {
            using (scratch)
            {
                var (lazy, chosen, why) = LazyModeChecks.Run(config.LazyMode, cachefilesDevice, scratch);
                results.AddRange(CacheDirectoryChecks.Run(cacheDirectory, scratch));
                results.AddRange(lazy);
                (mode, reason) = (chosen, why);
            }
        }

        results.AddRange(ContainerdConfigChecks.Run(containerdConfig, config.Address));
        return new CheckReport(results, mode, reason);
    }
}
