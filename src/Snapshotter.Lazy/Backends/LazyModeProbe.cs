using Snapshotter.Cachefiles.Daemon;
using Snapshotter.Lazy.Mounting;

namespace Snapshotter.Lazy.Backends;

/// <summary>
/// The one place that judges which lazy modes this host supports and which one a requested mode resolves to. The probes
/// try the real thing (a test mount, a bind of <c>/dev/cachefiles</c>, an open of <c>/dev/fuse</c>) and undo it, so
/// that <c>snapshotter check</c> can run them beside a host that serves; the service probes, decides, then starts the
/// chosen backend (<see cref="BackendSelector"/>).
/// </summary>
internal static class LazyModeProbe
{
    /// <summary>The FUSE device the fuse mode serves blob files through.</summary>
    public const string FuseDevice = "/dev/fuse";

    /// <summary>The loop control device blob-fetch needs when EROFS cannot mount regular files.</summary>
    public const string LoopControl = "/dev/loop-control";

    /// <summary>The order <see cref="LazyMode.Auto"/> tries modes in: the lazier first.</summary>
    public static IReadOnlyList<LazyMode> Preference { get; } = [LazyMode.Fscache, LazyMode.Fuse, LazyMode.BlobFetch];

    /// <summary>
    /// The modes tried for <paramref name="requested"/>, in order: auto and fscache try every mode, fuse falls back to
    /// blob-fetch, blob-fetch is only itself.
    /// </summary>
    public static IReadOnlyList<LazyMode> Candidates(LazyMode requested) => requested switch
    {
        LazyMode.Fuse => [LazyMode.Fuse, LazyMode.BlobFetch],
        LazyMode.BlobFetch => [LazyMode.BlobFetch],
        _ => Preference,
    };

    /// <summary>
    /// Probes EROFS (a tiny image mounted from a file in <paramref name="workDirectory"/>) and each of
    /// <paramref name="modes"/>; fscache binds on <c>&lt;workDirectory&gt;/fscache</c> and releases it. Leaves no mount
    /// and no open device behind. I/O errors on <paramref name="workDirectory"/> itself propagate.
    /// </summary>
    /// <param name="busyRetry">How long to wait while another process holds the cachefiles device. Defaults to 15 s (a restarting daemon).</param>
    public static LazyHostCapabilities Probe(
        IReadOnlyCollection<LazyMode> modes, string workDirectory, string cachefilesDevice = "/dev/cachefiles", TimeSpan? busyRetry = null)
    {
        bool erofs, fileBacked;
        string erofsReason, fileReason;
        try
        {
            fileBacked = ErofsMounts.ProbeFileBacked(workDirectory, out fileReason);
            erofs = true;
            erofsReason = "the kernel has EROFS";
        }
        catch (SnapshotterException e) when (e.Kind == ErrorKind.FailedPrecondition)
        {
            (erofs, fileBacked, erofsReason, fileReason) = (false, false, e.Message, e.Message);
        }

        var verdicts = new List<LazyModeVerdict>();
        foreach (var mode in Preference.Where(modes.Contains))
        {
            verdicts.Add(mode switch
            {
                LazyMode.Fscache => ProbeFscache(erofs, erofsReason, workDirectory, cachefilesDevice, busyRetry ?? TimeSpan.FromSeconds(15)),
                LazyMode.Fuse => ProbeFuse(erofs, erofsReason, fileBacked, fileReason),
                _ => ProbeBlobFetch(erofs, erofsReason, fileBacked, fileReason),
            });
        }

        return new LazyHostCapabilities
        {
            Erofs = erofs,
            ErofsReason = erofsReason,
            FileBacked = fileBacked,
            FileBackedReason = fileReason,
            Verdicts = verdicts,
        };
    }

    /// <summary>
    /// Resolves <paramref name="requested"/> against <paramref name="capabilities"/>: the first available of its
    /// <see cref="Candidates"/>. When the requested mode itself is unavailable and <paramref name="fallBack"/> is false,
    /// the decision carries the error to fail with; when no candidate works, its mode is null.
    /// </summary>
    public static LazyModeDecision Decide(LazyMode requested, LazyHostCapabilities capabilities, bool fallBack)
    {
        var unavailable = new List<string>();
        foreach (var mode in Candidates(requested))
        {
            var verdict = capabilities.Verdict(mode) ?? new LazyModeVerdict(mode, false, "not probed");
            if (verdict.Available)
            {
                return new LazyModeDecision(mode, unavailable.Count == 0 ? verdict.Reason : $"{verdict.Reason} ({string.Join("; ", unavailable)})");
            }

            if (mode == requested && !fallBack)
            {
                return new LazyModeDecision(null, verdict.Reason, $"lazy mode {LazyModes.Name(mode)} is unavailable: {verdict.Reason}");
            }

            unavailable.Add($"{LazyModes.Name(mode)}: {verdict.Reason}");
        }

        return new LazyModeDecision(null, $"no lazy mode works on this host ({string.Join("; ", unavailable)})");
    }

    private static LazyModeVerdict ProbeFscache(bool erofs, string erofsReason, string workDirectory, string device, TimeSpan busyRetry)
    {
        if (!File.Exists(device))
        {
            return new(LazyMode.Fscache, false, $"{device} does not exist (the kernel lacks CONFIG_CACHEFILES / CONFIG_CACHEFILES_ONDEMAND)");
        }

        if (!erofs)
        {
            return new(LazyMode.Fscache, false, erofsReason);
        }

        var directory = Directory.CreateDirectory(Path.Combine(workDirectory, "fscache")).FullName;
        try
        {
            OnDemandDaemon.ProbeBind(new OnDemandDaemonOptions { DevicePath = device, CacheDirectory = directory, BusyRetryTimeout = busyRetry });
            return new(LazyMode.Fscache, true, $"cachefiles on-demand binds on {directory}");
        }
        catch (OnDemandUnsupportedException e)
        {
            return new(LazyMode.Fscache, false, e.Message);
        }
    }

    private static LazyModeVerdict ProbeFuse(bool erofs, string erofsReason, bool fileBacked, string fileReason)
    {
        if (!erofs)
        {
            return new(LazyMode.Fuse, false, erofsReason);
        }

        if (!fileBacked)
        {
            return new(LazyMode.Fuse, false, $"{fileReason}; the fuse mode needs EROFS mounted from regular files (Linux 6.12+ with CONFIG_EROFS_FS_BACKED_BY_FILE)");
        }

        if (!File.Exists(FuseDevice))
        {
            return new(LazyMode.Fuse, false, $"{FuseDevice} does not exist (CONFIG_FUSE_FS)");
        }

        return TryOpen(FuseDevice) is { } error
            ? new(LazyMode.Fuse, false, $"{FuseDevice} cannot be opened: {error}")
            : new(LazyMode.Fuse, true, "blob files are served over FUSE (mounted at the first lazy image) and EROFS is mounted from them");
    }

    private static LazyModeVerdict ProbeBlobFetch(bool erofs, string erofsReason, bool fileBacked, string fileReason)
    {
        const string Downloaded = "data blobs are downloaded whole when an image is first mounted";
        if (!erofs)
        {
            return new(LazyMode.BlobFetch, false, erofsReason);
        }

        if (fileBacked)
        {
            return new(LazyMode.BlobFetch, true, $"{Downloaded}; EROFS is mounted from the downloaded files");
        }

        var loop = File.Exists(LoopControl) ? TryOpen(LoopControl) : "it does not exist (CONFIG_BLK_DEV_LOOP)";
        return loop is null
            ? new(LazyMode.BlobFetch, true, $"{Downloaded}; EROFS is mounted through loop devices")
            : new(LazyMode.BlobFetch, false, $"{fileReason}, and {LoopControl} is unusable: {loop}");
    }

    /// <summary>Null when <paramref name="path"/> opens read-write, else why not.</summary>
    private static string? TryOpen(string path)
    {
        try
        {
            using (File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite))
            {
                return null;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return e.Message;
        }
    }
}
