using System.Security.Cryptography;
using Snapshotter.Erofs.Tests.Interop;

namespace Snapshotter.Lazy.Tests.Infrastructure;

/// <summary>Compares a mounted tree with what <see cref="LazyTestImage"/> wrote, through the kernel.</summary>
internal static class TreeAssert
{
    public static void Matches(LazyTestImage image, string root)
    {
        foreach (var (path, data) in image.Files)
        {
            var full = Path.Combine(root, path);
            Assert.True(File.Exists(full), $"{path} is missing from the mount");
            Assert.True(Sha(data) == ShaOfFile(full), $"{path}: sha256 differs from the source");
        }

        foreach (var (path, target) in image.Symlinks)
        {
            Assert.Equal(target, new FileInfo(Path.Combine(root, path)).LinkTarget);
        }

        foreach (var path in image.Removed)
        {
            Assert.False(Path.Exists(Path.Combine(root, path)), $"{path} should have been removed by a whiteout or an opaque directory");
        }

        Assert.Equal(["new.txt"], Directory.EnumerateFileSystemEntries(Path.Combine(root, "opaque")).Select(Path.GetFileName));
        Assert.Equal(image.Xattr.Value, Xattrs.Get(Path.Combine(root, image.Xattr.Path), image.Xattr.Name));
        foreach (var group in image.HardLinks)
        {
            var stats = group.Select(p => HostMounts.LinksAndInode(Path.Combine(root, p))).ToArray();
            Assert.All(stats, s => Assert.Equal(group.Length, s.Links));
            Assert.Single(stats.Select(s => s.Inode).Distinct());
        }

        // Nothing more than the image: every regular file under the root is one the image has.
        var present = Directory.EnumerateFiles(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Where(f => new FileInfo(f).LinkTarget is null)
            .Select(f => Path.GetRelativePath(root, f))
            .ToHashSet(StringComparer.Ordinal);
        Assert.Equal(image.Files.Keys.Order(StringComparer.Ordinal), present.Order(StringComparer.Ordinal));
    }

    public static string Sha(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    public static string ShaOfFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
