using Snapshotter.Core.Interop;

namespace Snapshotter.Core.Overlay;

/// <summary>Deletes snapshot trees, which may hold read-only directories, device whiteouts and symlinks.</summary>
internal static class DirectoryTree
{
    private const UnixFileMode OwnerAll = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Deletes <paramref name="path"/> and everything below it without following symlinks. Missing is fine.</summary>
    public static void Delete(string path)
    {
        FileSystemInfo root = new DirectoryInfo(path);
        if (!root.Exists)
        {
            if (File.Exists(path) || new FileInfo(path).LinkTarget is not null)
            {
                File.Delete(path);
            }

            return;
        }

        if (root.LinkTarget is not null)
        {
            File.Delete(path);
            return;
        }

        DeleteDirectory((DirectoryInfo)root);
    }

    private static void DeleteDirectory(DirectoryInfo dir)
    {
        // A directory without owner write/search permission cannot be emptied by a non-root caller.
        if ((dir.UnixFileMode & OwnerAll) != OwnerAll)
        {
            Syscalls.Chmod(dir.FullName, (uint)(dir.UnixFileMode | OwnerAll));
        }

        foreach (var entry in dir.EnumerateFileSystemInfos("*", new EnumerationOptions { AttributesToSkip = 0, RecurseSubdirectories = false }))
        {
            if (entry is DirectoryInfo sub && entry.LinkTarget is null)
            {
                DeleteDirectory(sub);
            }
            else
            {
                try
                {
                    File.Delete(entry.FullName);
                }
                catch (DirectoryNotFoundException)
                {
                }
            }
        }

        try
        {
            dir.Delete(recursive: false);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
