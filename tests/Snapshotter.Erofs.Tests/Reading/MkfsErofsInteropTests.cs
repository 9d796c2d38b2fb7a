using System.Text;
using Snapshotter.Erofs.Reading;
using Snapshotter.Erofs.Tests.Infrastructure;
using Snapshotter.Erofs.Tests.Interop;

namespace Snapshotter.Erofs.Tests.Reading;

/// <summary>Our reader against images written by Debian's mkfs.erofs 1.5, with the kernel's view of the same image as the oracle.</summary>
public sealed class MkfsErofsInteropTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("erofs-mkfs-").FullName;

    public MkfsErofsInteropTests()
    {
        string src = Path.Combine(_work, "src");
        Directory.CreateDirectory(Path.Combine(src, "dir", "many"));
        File.WriteAllText(Path.Combine(src, "small.txt"), "hello erofs\n");
        File.WriteAllBytes(Path.Combine(src, "empty"), []);
        byte[] big = new byte[300_001];
        new Random(7).NextBytes(big);
        File.WriteAllBytes(Path.Combine(src, "dir", "big.bin"), big);
        File.WriteAllBytes(Path.Combine(src, "dir", "tail.bin"), big.AsSpan(0, 8192 + 100).ToArray());
        using (var sparse = File.Create(Path.Combine(src, "sparse")))
        {
            sparse.Seek(5 << 20, SeekOrigin.Begin);
            sparse.Write("end of sparse"u8);
        }

        File.CreateSymbolicLink(Path.Combine(src, "rel-link"), "small.txt");
        File.CreateSymbolicLink(Path.Combine(src, "dangling"), "/no/such/target");
        File.CreateSymbolicLink(Path.Combine(src, "long-link"), new string('x', 3000));
        File.CreateSymbolicLink(Path.Combine(src, "dir", "loop"), "..");
        Shell.Run("ln", Path.Combine(src, "small.txt"), Path.Combine(src, "hard"));
        File.WriteAllText(Path.Combine(src, TestLayers.UnicodeName), "unicode\n");
        // mkfs.erofs 1.5 fails on 255-byte names ("Could not format the device"); 200 bytes still spans most of a dirent block name area.
        File.WriteAllText(Path.Combine(src, new string('N', 200)), "long\n");
        for (int i = 0; i < 2000; i++)
        {
            File.WriteAllText(Path.Combine(src, "dir", "many", $"entry-{i:D4}"), $"{i}\n");
        }

        Shell.Run("mknod", Path.Combine(src, "chardev"), "c", "4", "64");
        Shell.Run("mknod", Path.Combine(src, "blockdev"), "b", "259", "300000");
        Shell.Run("mkfifo", Path.Combine(src, "fifo"));
        Shell.Run("chown", "-h", "1234:5678", Path.Combine(src, "small.txt"));
        Shell.Run("chmod", "4751", Path.Combine(src, "dir", "tail.bin"));
        byte[] value = Encoding.UTF8.GetBytes("some value");
        Assert.Equal(0, Xattrs.lsetxattr(Path.Combine(src, "small.txt"), "user.test", value, (nuint)value.Length, 0));
        Assert.Equal(0, Xattrs.lsetxattr(Path.Combine(src, "dir"), "trusted.dirattr", value, (nuint)value.Length, 0));
        Source = src;
    }

    private string Source { get; }

    [Theory]
    [InlineData("plain")]
    [InlineData("chunked")]
    [InlineData("blobdev")]
    public void ReaderWalk_MkfsErofsImage_MatchesKernelView(string variant)
    {
        string image = Path.Combine(_work, variant + ".img");
        string blob = Path.Combine(_work, variant + ".blob");
        string[] args = variant switch
        {
            "plain" => [image, Source],
            "chunked" => ["--chunksize=65536", image, Source],
            _ => ["--chunksize=65536", "--blobdev=" + blob, image, Source],
        };
        Shell.Run("mkfs.erofs", args);
        string[] devices = variant == "blobdev" ? [blob] : [];
        string mnt = Path.Combine(_work, "mnt-" + variant);
        Directory.CreateDirectory(mnt);
        Syscalls.MountErofs(image, mnt, devices);
        try
        {
            List<string> kernel = TreeView.FromKernel(mnt);
            using ErofsImage erofs = ErofsImage.Open(image);
            var sources = devices.Select(d => (IRandomAccessSource)new FileSource(d)).ToList();
            List<string> ours = TreeView.FromReader(erofs, sources);
            sources.ForEach(s => ((IDisposable)s).Dispose());
            Assert.True(kernel.Count > 2000);
            Assert.Equal(kernel, ours);
            var inodes = erofs.Walk().Select(e => e.Inode).ToList();
            Assert.Contains(inodes, i => i.DataLayout == 2);
            if (variant != "plain")
            {
                Assert.Contains(inodes, i => i.DataLayout == 4);
            }

            if (variant == "blobdev")
            {
                Assert.Single(erofs.Devices);
                ErofsInode big = erofs.Lookup("/dir/big.bin")!;
                Assert.All(erofs.ReadChunkIndexes(big), c => Assert.Equal(1, c.DeviceId));
            }
        }
        finally
        {
            Syscalls.Unmount(mnt);
        }
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
