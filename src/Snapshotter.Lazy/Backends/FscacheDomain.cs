namespace Snapshotter.Lazy.Backends;

/// <summary>
/// Picks the EROFS domain a cachefiles session mounts in. Every superblock of a domain shares the domain's data-blob
/// cookies (EROFS reuses a live cookie of the same tag, <c>erofs_domain_register_cookie</c>), and a superblock mounted
/// by an earlier session outlives it while a container still uses it (a restarted service detaches it, the kernel frees
/// it only with its last user). Its cookies belong to the cache the dead session's device fd bound, which the kernel
/// withdrew: a new mount in that domain would read its blobs through them and get EIO, without the new session ever
/// seeing an OPEN. So when <c>/proc/fs/fscache/volumes</c> shows the configured domain's volume alive before this
/// session mounted anything, this session uses a fresh domain (a cold cache), and cache directories of such fresh
/// domains no superblock holds any more are deleted.
/// </summary>
internal static class FscacheDomain
{
    /// <summary>The kernel's list of acquired fscache volumes (EROFS names its volume <c>erofs,&lt;domain&gt;</c>).</summary>
    public const string VolumesFile = "/proc/fs/fscache/volumes";

    /// <summary>
    /// <paramref name="configured"/> unless <paramref name="volumes"/> (the text of <see cref="VolumesFile"/>, null when
    /// unreadable) lists its volume; then <c>&lt;configured&gt;-&lt;suffix&gt;</c> with a suffix no live volume uses.
    /// </summary>
    public static string Choose(string configured, string? volumes, Func<string> suffix)
    {
        if (volumes is null || !IsAlive(volumes, configured))
        {
            return configured;
        }

        string fresh;
        do
        {
            fresh = $"{configured}-{suffix()}";
        }
        while (IsAlive(volumes, fresh));
        return fresh;
    }

    /// <summary>Whether <paramref name="volumes"/> lists the volume of <paramref name="domain"/> (its last column is the key).</summary>
    public static bool IsAlive(string volumes, string domain)
    {
        var key = "erofs," + domain;
        foreach (var line in volumes.Split('\n'))
        {
            if (line.Split(' ', StringSplitOptions.RemoveEmptyEntries) is [.., var last] && last == key)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The text of <see cref="VolumesFile"/>, or null when the kernel has no fscache proc files.</summary>
    public static string? ReadVolumes()
    {
        try
        {
            return File.ReadAllText(VolumesFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Deletes the cachefiles volume directories (<c>&lt;cacheDirectory&gt;/cache/Ierofs,&lt;configured&gt;-*</c>) of fresh
    /// domains that no live volume uses; returns how many. The configured domain's own directory is kept (its cache files
    /// are reused). Best effort: a directory that cannot be deleted is left for the next start.
    /// </summary>
    public static int DeleteUnusedFreshDomains(string cacheDirectory, string configured, string? volumes, string current)
    {
        var root = Path.Combine(cacheDirectory, "cache");
        if (volumes is null || !Directory.Exists(root))
        {
            return 0;
        }

        var deleted = 0;
        var prefix = $"Ierofs,{configured}-";
        foreach (var directory in Directory.EnumerateDirectories(root, prefix + "*"))
        {
            var domain = Path.GetFileName(directory)["Ierofs,".Length..];
            if (domain == current || IsAlive(volumes, domain))
            {
                continue;
            }

            try
            {
                Directory.Delete(directory, recursive: true);
                deleted++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Left for the next start.
            }
        }

        return deleted;
    }
}
