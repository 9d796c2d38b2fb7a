using System.Security.Cryptography;

namespace Snapshotter.Fuse.Tests.Infrastructure;

/// <summary>
/// A source tree (nested directories, symlinks, a big file, 10,000 small files) and its EROFS image built once
/// with <c>mkfs.erofs --chunksize=65536 --blobdev=blob.img meta.img dir</c>: metadata in meta.img (the bootstrap),
/// file data in blob.img (a data blob's address space).
/// </summary>
public sealed class ErofsImageFixture : IDisposable
{
    public const int SmallFiles = 10_000;

    private readonly TempDirectory _directory = new("fuse-erofs");

    public ErofsImageFixture()
    {
        if (!File.Exists("/usr/bin/mkfs.erofs"))
        {
            Assert.Fail("mkfs.erofs is missing: apt-get install erofs-utils");
        }

        Tree = _directory.Combine("tree");
        BuildTree(Tree);
        Bootstrap = _directory.Combine("meta.img");
        Blob = _directory.Combine("blob.img");
        FuseEnvironment.Run("mkfs.erofs", "--quiet", "--chunksize=65536", "--blobdev=" + Blob, Bootstrap, Tree);
        Files = Directory.EnumerateFiles(Tree, "*", SearchOption.AllDirectories)
            .Where(p => !new FileInfo(p).Attributes.HasFlag(FileAttributes.ReparsePoint))
            .ToDictionary(p => Path.GetRelativePath(Tree, p), Sha256);
        Symlinks = Directory.EnumerateFileSystemEntries(Tree, "*", SearchOption.AllDirectories)
            .Where(p => new FileInfo(p).LinkTarget is not null)
            .ToDictionary(p => Path.GetRelativePath(Tree, p), p => new FileInfo(p).LinkTarget!);
        Directories = Directory.EnumerateDirectories(Tree, "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(Tree, p)).ToList();
    }

    public string Tree { get; }

    public string Bootstrap { get; }

    public string Blob { get; }

    /// <summary>Regular files (relative path) and their sha256.</summary>
    public IReadOnlyDictionary<string, string> Files { get; }

    public IReadOnlyDictionary<string, string> Symlinks { get; }

    public IReadOnlyList<string> Directories { get; }

    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(stream));
    }

    public void Dispose() => _directory.Dispose();

    private static void BuildTree(string root)
    {
        var random = new Random(42);
        Directory.CreateDirectory(Path.Combine(root, "a", "b", "c", "d"));
        var big = new byte[(24 << 20) + 12345];
        random.NextBytes(big);
        File.WriteAllBytes(Path.Combine(root, "a", "b", "big.bin"), big);
        File.WriteAllText(Path.Combine(root, "a", "b", "c", "d", "deep.txt"), "deep\n");
        File.WriteAllBytes(Path.Combine(root, "empty"), []);
        File.CreateSymbolicLink(Path.Combine(root, "link-relative"), "a/b/big.bin");
        File.CreateSymbolicLink(Path.Combine(root, "link-absolute"), "/etc/hostname");
        File.CreateSymbolicLink(Path.Combine(root, "a", "dangling"), "../missing");
        Directory.CreateSymbolicLink(Path.Combine(root, "dir-link"), "a/b");
        for (var i = 0; i < SmallFiles; i++)
        {
            var dir = Path.Combine(root, "many", $"d{i % 100:D2}");
            if (i < 100)
            {
                Directory.CreateDirectory(dir);
            }

            var content = new byte[random.Next(0, 9000)];
            random.NextBytes(content);
            File.WriteAllBytes(Path.Combine(dir, $"f{i:D5}"), content);
        }
    }
}
