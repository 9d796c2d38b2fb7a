namespace Snapshotter.IntegrationTests.Fixtures;

/// <summary>
/// A snapshot mounted on a temp directory with the exact command <c>ctr snapshots mounts</c>
/// prints; unmounted (lazily, so it never sticks) and removed on dispose.
/// </summary>
public sealed class MountedSnapshot : IAsyncDisposable
{
    private MountedSnapshot(string target, string command)
    {
        Target = target;
        Command = command;
    }

    public string Target { get; }

    /// <summary>The mount command ctr printed.</summary>
    public string Command { get; }

    public static async Task<MountedSnapshot> MountAsync(Ctr ctr, string snapshotter, string key, string parentDirectory)
    {
        string target = Path.Combine(parentDirectory, "mnt-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(target);
        string command = (await ctr.SnapshotsOkAsync(snapshotter, "mounts", target, key).ConfigureAwait(false)).Trim();
        var result = await ProcessRunner.RunAsync("sh", ["-c", command]).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            Directory.Delete(target);
            throw new InvalidOperationException($"the mount command ctr printed failed: {result}");
        }

        return new MountedSnapshot(target, command);
    }

    public ValueTask DisposeAsync()
    {
        Mounts.UnmountAll(Target);
        try
        {
            Directory.Delete(Target);
        }
        catch (IOException)
        {
            // A detached mount can keep the directory busy for a moment; the fixture removes it later.
        }

        return ValueTask.CompletedTask;
    }
}
