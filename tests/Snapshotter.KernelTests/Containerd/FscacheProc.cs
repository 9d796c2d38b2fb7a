namespace Snapshotter.KernelTests.Containerd;

/// <summary>
/// The kernel's own view of fscache registrations: <c>/proc/fs/fscache/volumes</c> lists every acquired volume (EROFS
/// names its volume <c>erofs,&lt;domain&gt;</c>) and <c>/proc/fs/fscache/cookies</c> every cookie (one per bootstrap
/// and data blob in use). A volume exists while an EROFS mount of that domain does.
/// </summary>
internal static class FscacheProc
{
    public const string VolumesFile = "/proc/fs/fscache/volumes";

    public const string CookiesFile = "/proc/fs/fscache/cookies";

    /// <summary>The volume key EROFS uses for the service's default domain (<c>LazyOptions.DomainId</c>).</summary>
    public const string ServiceVolume = "erofs,lazysnap";

    /// <summary>The lines of <see cref="VolumesFile"/> naming <paramref name="volumeKey"/>.</summary>
    public static IReadOnlyList<string> Volumes(string volumeKey) =>
        File.ReadAllLines(VolumesFile).Where(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains(volumeKey)).ToList();

    /// <summary>The whole of both files, for failure messages.</summary>
    public static string Describe() =>
        $"{VolumesFile}:\n{File.ReadAllText(VolumesFile)}\n{CookiesFile}:\n{(File.Exists(CookiesFile) ? File.ReadAllText(CookiesFile) : "(none)")}";
}
