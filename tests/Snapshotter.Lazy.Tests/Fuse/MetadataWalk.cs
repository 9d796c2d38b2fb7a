using Snapshotter.Lazy.Tests.Infrastructure;

namespace Snapshotter.Lazy.Tests.Fuse;

/// <summary>`find` + lstat of every entry of a tree, with the host's find(1): what a metadata-heavy container start does.</summary>
internal static class MetadataWalk
{
    /// <summary>Walks <paramref name="root"/> with <c>find -printf</c> (which lstats every entry for %s and %m); returns the entries seen.</summary>
    public static int Run(string root)
    {
        var output = HostTool.Run("find", root, "-printf", "%s %m %U %T@ %p\\n");
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
    }
}
