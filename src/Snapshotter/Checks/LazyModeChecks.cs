using Snapshotter.Lazy.Backends;

namespace Snapshotter.Checks;

/// <summary>
/// The kernel features lazy images use and the mode <c>serve</c> picks, from the same probe and decision the service
/// runs at start (<see cref="LazyModeProbe"/>): EROFS, EROFS from regular files, FUSE, loop devices, cachefiles
/// on-demand (a real <c>bind ondemand</c> on the cache directory's filesystem, released at once). Missing features are
/// WARN: serve falls back to the next mode, down to unpacking every layer the ordinary way.
/// </summary>
internal static class LazyModeChecks
{
    /// <summary>The results, and the mode serve will use (<c>off</c> when none) with the reason.</summary>
    public static (IReadOnlyList<CheckResult> Results, string Mode, string Reason) Run(string lazyMode, string cachefilesDevice, ScratchDirectory scratch)
    {
        // Every mode is probed, whatever is configured: the report shows what the host could do.
        var capabilities = LazyModeProbe.Probe(LazyModeProbe.Preference, scratch.Path, cachefilesDevice, busyRetry: TimeSpan.Zero);
        var results = new List<CheckResult>
        {
            capabilities.Erofs
                ? CheckResult.Ok("erofs", HostChecks.KernelLists("erofs") ? "the kernel has EROFS (listed in /proc/filesystems)" : "the kernel has EROFS")
                : CheckResult.Warn("erofs", capabilities.ErofsReason, "use a kernel with CONFIG_EROFS_FS (or modprobe erofs); without it no lazy mode works and lazy images cannot be pulled"),
            capabilities.FileBacked
                ? CheckResult.Ok("erofs.file_backed", capabilities.FileBackedReason)
                : CheckResult.Warn("erofs.file_backed", capabilities.FileBackedReason, "Linux 6.12+ with CONFIG_EROFS_FS_BACKED_BY_FILE mounts EROFS from files (needed by the fuse mode)"),
            Device("fuse", LazyModeProbe.FuseDevice, "CONFIG_FUSE_FS", "modprobe fuse, or use a kernel with CONFIG_FUSE_FS (needed by the fuse mode)"),
            Loop(capabilities.FileBacked),
            Cachefiles(cachefilesDevice, capabilities.Verdict(LazyMode.Fscache)!),
        };

        foreach (var verdict in capabilities.Verdicts)
        {
            var name = "mode." + LazyModes.Name(verdict.Mode);
            var see = verdict.Mode switch
            {
                LazyMode.Fscache => "see the cachefiles and cache_dir.* checks",
                LazyMode.Fuse => "see the erofs.file_backed and fuse checks",
                _ => "see the erofs and loop checks",
            };
            results.Add(verdict.Available
                ? CheckResult.Ok(name, $"available: {verdict.Reason}")
                : CheckResult.Warn(name, $"unavailable: {verdict.Reason}", see));
        }

        if (!LazyModes.TryParse(lazyMode, out var requested, out _))
        {
            results.Add(CheckResult.Warn("lazy_mode", "lazy_mode is off: every layer is unpacked the ordinary way", "set lazy_mode (--lazy-mode) to auto to pull lazy images lazily"));
            return (results, "off", "lazy_mode is off in the configuration");
        }

        // serve falls back when the requested mode is unavailable (LazyOptions.FallBackWhenUnavailable defaults to true).
        var decision = LazyModeProbe.Decide(requested, capabilities, fallBack: true);
        if (decision.Mode is not { } mode)
        {
            results.Add(CheckResult.Warn("lazy_mode", $"none: {decision.Reason}; serve unpacks every layer the ordinary way", "see the mode.* lines"));
            return (results, "off", decision.Reason);
        }

        var chosen = LazyModes.Name(mode);
        var asked = requested == LazyMode.Auto ? "auto" : LazyModes.Name(requested);
        results.Add(requested == LazyMode.Auto || requested == mode
            ? CheckResult.Ok("lazy_mode", $"serve will use {chosen} (lazy_mode {asked}): {decision.Reason}")
            : CheckResult.Warn("lazy_mode", $"serve will use {chosen}, not the configured {asked}: {decision.Reason}", "see the mode.* lines"));
        return (results, chosen, decision.Reason);
    }

    private static CheckResult Device(string name, string path, string option, string hint)
    {
        if (!File.Exists(path))
        {
            return CheckResult.Warn(name, $"{path} does not exist ({option})", hint);
        }

        try
        {
            using (File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite))
            {
                return CheckResult.Ok(name, $"{path} opens");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return CheckResult.Warn(name, $"{path} cannot be opened: {e.Message}", hint);
        }
    }

    private static CheckResult Loop(bool fileBacked)
    {
        var device = Device("loop", LazyModeProbe.LoopControl, "CONFIG_BLK_DEV_LOOP", "modprobe loop (blob-fetch mounts EROFS through loop devices on kernels before 6.12)");
        return device.Status == CheckStatus.Ok || !fileBacked
            ? device
            : CheckResult.Ok("loop", $"not needed: EROFS mounts from regular files ({device.Detail})");
    }

    private static CheckResult Cachefiles(string device, LazyModeVerdict fscache)
    {
        const string Name = "cachefiles";
        if (!File.Exists(device))
        {
            return CheckResult.Warn(
                Name,
                $"{device} does not exist: the kernel lacks CONFIG_CACHEFILES_ONDEMAND, so the fscache mode is unavailable",
                "use a kernel with CONFIG_CACHEFILES=y, CONFIG_CACHEFILES_ONDEMAND=y and CONFIG_EROFS_FS_ONDEMAND=y (5.19+; Ubuntu, Fedora and most cloud kernels have them), or modprobe cachefiles");
        }

        if (fscache.Available)
        {
            return CheckResult.Ok(Name, $"{device}: bind ondemand works on the cache directory's filesystem (bound and released again)");
        }

        var hint = fscache.Reason.Contains("EBUSY", StringComparison.Ordinal)
            ? "another cache daemon holds the device: stop cachefilesd or nydusd (or this is a snapshotter serve already running)"
            : fscache.Reason.Contains("bind ondemand", StringComparison.Ordinal)
                ? "put cache_dir (--cache-dir) on ext4, xfs or btrfs, and use a kernel with CONFIG_CACHEFILES_ONDEMAND"
                : null;
        return CheckResult.Warn(Name, $"{device} exists, but: {fscache.Reason}", hint);
    }
}
