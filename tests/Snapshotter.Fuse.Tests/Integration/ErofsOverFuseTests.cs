using Snapshotter.Fuse.Protocol;
using Snapshotter.Fuse.Tests.Infrastructure;
using Snapshotter.Interop;
using Tmds.Linux;
using Xunit.Abstractions;

namespace Snapshotter.Fuse.Tests.Integration;

/// <summary>The product's use: the kernel's EROFS mounted from blob files that a <see cref="FuseServer"/> serves.</summary>
public sealed class ErofsOverFuseTests(ErofsImageFixture image, ITestOutputHelper output) : IClassFixture<ErofsImageFixture>
{
    [Fact]
    public async Task Mount_BootstrapAndBlobFromFuse_EveryFileMatchesSource()
    {
        using var meta = new LocalFuseFile("meta.img", image.Bootstrap, passthrough: false);
        using var blob = new LocalFuseFile("blob.img", image.Blob, passthrough: false);
        await using var fuse = FuseMount.Start(output, null, meta, blob);
        using var erofs = ErofsMount.Mount(fuse.File("meta.img"), fuse.File("blob.img"));

        AssertTreeMatches(erofs.Path);
        Assert.True(fuse.Server.Statistics.Requests(FuseOpcode.Read) > 0);
    }

    [Fact]
    public async Task Mount_LocalBootstrapBlobFromFuse_EveryFileMatchesSource()
    {
        using var blobFile = new LocalFuseFile("blob.img", image.Blob, passthrough: false);
        var blob = new CountingFuseFile(blobFile);
        await using var fuse = FuseMount.Start(output, null, blob);
        using var erofs = ErofsMount.Mount(image.Bootstrap, fuse.File("blob.img"));

        AssertTreeMatches(erofs.Path);
        Assert.True(blob.Bytes >= new FileInfo(Path.Combine(image.Tree, "a", "b", "big.bin")).Length);
    }

    [Fact]
    public async Task Walk_SecondFindAndStatOfTenThousandFiles_NoFuseRequest_DataReadsOnlyBlob()
    {
        using var metaFile = new LocalFuseFile("meta.img", image.Bootstrap, passthrough: false);
        using var blobFile = new LocalFuseFile("blob.img", image.Blob, passthrough: false);
        var meta = new CountingFuseFile(metaFile);
        var blob = new CountingFuseFile(blobFile);
        await using var fuse = FuseMount.Start(output, null, meta, blob);
        using var erofs = ErofsMount.Mount(fuse.File("meta.img"), fuse.File("blob.img"));
        var stats = fuse.Server.Statistics;

        var firstWalk = Walk(erofs.Path);
        var afterFirst = stats.Snapshot();
        output.WriteLine($"first walk: {firstWalk} entries, FUSE requests {string.Join(", ", afterFirst.Select(kv => $"{kv.Key}={kv.Value}"))}, meta READs into the file {meta.Reads}");
        var secondWalk = Walk(erofs.Path);

        Assert.True(firstWalk > ErofsImageFixture.SmallFiles);
        Assert.Equal(firstWalk, secondWalk);
        Assert.Empty(stats.Since(afterFirst));
        Assert.Equal(0, blob.Reads);

        var metaReadsBefore = meta.Reads;
        var beforeData = stats.Snapshot();
        var big = Path.Combine("a", "b", "big.bin");
        Assert.Equal(image.Files[big], ErofsImageFixture.Sha256(Path.Combine(erofs.Path, big)));
        var delta = stats.Since(beforeData);
        output.WriteLine($"reading big.bin: FUSE requests {string.Join(", ", delta.Select(kv => $"{kv.Key}={kv.Value}"))}, blob READs {blob.Reads}");
        Assert.Equal([FuseOpcode.Read], delta.Keys);
        Assert.Equal(metaReadsBefore, meta.Reads);
        Assert.True(blob.Reads > 0);
    }

    private static int Walk(string root)
    {
        // find + stat: every entry's attributes, and every symlink's target.
        var count = 0;
        foreach (var entry in new DirectoryInfo(root).EnumerateFileSystemInfos("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            entry.Refresh();
            _ = entry.LastWriteTimeUtc;
            _ = entry.LinkTarget;
            if (entry is FileInfo file)
            {
                _ = file.Length;
            }

            count++;
        }

        return count;
    }

    private void AssertTreeMatches(string mounted)
    {
        foreach (var (relative, hash) in image.Files)
        {
            Assert.True(hash == ErofsImageFixture.Sha256(Path.Combine(mounted, relative)), $"{relative} differs");
        }

        foreach (var (relative, target) in image.Symlinks)
        {
            Assert.Equal(target, new FileInfo(Path.Combine(mounted, relative)).LinkTarget);
        }

        foreach (var relative in image.Directories)
        {
            Assert.True(Directory.Exists(Path.Combine(mounted, relative)), $"directory {relative} missing");
        }

        var mountedFiles = Directory.EnumerateFileSystemEntries(mounted, "*", SearchOption.AllDirectories).Count();
        var sourceFiles = Directory.EnumerateFileSystemEntries(image.Tree, "*", SearchOption.AllDirectories).Count();
        Assert.Equal(sourceFiles, mountedFiles);
    }

    /// <summary>EROFS mounted from regular files with mount(2) directly (util-linux mount would make loop devices).</summary>
    private sealed class ErofsMount : IDisposable
    {
        private readonly TempDirectory _directory;

        private ErofsMount(TempDirectory directory) => _directory = directory;

        public string Path => _directory.Path;

        public static ErofsMount Mount(string bootstrap, string blob)
        {
            var directory = new TempDirectory("erofs-mnt");
            MountCalls.Mount(bootstrap, directory.Path, "erofs", (ulong)LibC.MS_RDONLY, "device=" + blob);
            return new ErofsMount(directory);
        }

        public void Dispose()
        {
            MountCalls.Unmount(Path, detach: false);
            _directory.Dispose();
        }
    }
}
