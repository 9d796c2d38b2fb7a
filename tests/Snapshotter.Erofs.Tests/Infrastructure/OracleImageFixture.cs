using System.Formats.Tar;
using Snapshotter.Erofs.Conversion;
using Snapshotter.Erofs.Reading;
using Snapshotter.Erofs.Tests.Interop;
using Snapshotter.Oci;

namespace Snapshotter.Erofs.Tests.Infrastructure;

/// <summary>
/// Builds a three-layer OCI layout with umoci, unpacks it with umoci (the reference tree), converts it
/// with <see cref="ImageConverter"/>, materializes the data blobs uncompressed and mounts the bootstrap
/// with the host kernel's EROFS (mount(2), one device= per blob). Shared by the oracle tests.
/// </summary>
public sealed class OracleImageFixture : IAsyncLifetime
{
    public const string Tag = "v1";
    public const string TargetTag = "v1-lazy";

    public string Work { get; } = Directory.CreateTempSubdirectory("erofs-oracle-").FullName;

    public string SourceLayout => Path.Combine(Work, "src");

    public string TargetLayout => Path.Combine(Work, "dst");

    public string ReferenceRoot => Path.Combine(Work, "bundle", "rootfs");

    public string MountPoint => Path.Combine(Work, "mnt");

    public string BootstrapPath => Path.Combine(Work, "image.boot");

    public List<string> BlobPaths { get; } = [];

    public List<string> RawBlobPaths { get; } = [];

    internal ConversionResult Result { get; private set; } = null!;

    internal ImageBuildOptions Options { get; } = new() { Compressor = ChunkCompressor.Zstd, ChunkSize = 256 * 1024 };

    public bool Mounted { get; private set; }

    public async Task InitializeAsync()
    {
        Shell.Run("umoci", "init", "--layout", SourceLayout);
        Shell.Run("umoci", "new", "--image", $"{SourceLayout}:{Tag}");
        for (int layer = 0; layer < 3; layer++)
        {
            string tar = Path.Combine(Work, $"layer{layer}.tar");
            await using (var file = File.Create(tar))
            using (var layers = new TestLayers(file))
            {
                WriteLayer(layers, layer);
            }

            Shell.Run("umoci", "raw", "add-layer", "--image", $"{SourceLayout}:{Tag}", tar);
            File.Delete(tar);
        }

        Shell.Run("umoci", "unpack", "--image", $"{SourceLayout}:{Tag}", Path.Combine(Work, "bundle"));

        Result = await ImageConverter.ConvertAsync(new OciLayout(SourceLayout, Tag), new OciLayout(TargetLayout, TargetTag), Options, workDirectory: Work);
        await using (var layer = File.OpenRead(BlobFile(Result.BootstrapLayer.Digest)))
        await using (var boot = File.Create(BootstrapPath))
        {
            await ImageConverter.ExtractBootstrapAsync(layer, boot);
        }

        foreach (Descriptor blob in Result.DataBlobs)
        {
            string path = BlobFile(blob.Digest);
            BlobPaths.Add(path);
            string raw = Path.Combine(Work, "raw-" + blob.Digest[7..19]);
            using (DataBlob data = DataBlob.Open(path, Options.Compressor, Options.Digester))
            await using (var output = File.Create(raw))
            {
                await data.WriteUncompressedAsync(output);
            }

            RawBlobPaths.Add(raw);
        }

        Directory.CreateDirectory(MountPoint);
        Syscalls.MountErofs(BootstrapPath, MountPoint, RawBlobPaths);
        Mounted = true;
    }

    public string BlobFile(string digest) => Path.Combine(TargetLayout, "blobs", "sha256", digest[7..]);

    public Task DisposeAsync()
    {
        if (Mounted)
        {
            Syscalls.Unmount(MountPoint);
        }

        Directory.Delete(Work, recursive: true);
        return Task.CompletedTask;
    }

    private static void WriteLayer(TestLayers t, int layer)
    {
        var xattrs = new Dictionary<string, string> { ["SCHILY.xattr.user.comment"] = "hello xattr", ["SCHILY.xattr.trusted.origin"] = "layer0" };
        switch (layer)
        {
            case 0:
                t.Dir("etc/");
                t.File("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
                t.Dir("data/", 0x1ED, 1000, 1000, xattrs);
                t.File("data/file1", "version one\n", 0x1A4);
                t.File("data/empty", []);
                t.File("data/suid", [1, 2, 3], 0x9ED, 1000, 1000, xattrs, seconds: 42);
                t.File("data/hl-a", "hard linked content\n");
                t.HardLink("data/hl-b", "data/hl-a");
                t.HardLink("data/hl-c", "data/hl-a");
                t.FileFromStream("data/big.sparse", new SparseContent(300L << 20));
                t.Symlink("data/rel-link", "file1");
                t.Symlink("data/abs-link", "/etc/passwd");
                t.Symlink("data/dangling", "../nowhere/missing");
                t.Dir("dev/");
                t.Device("dev/null", TarEntryType.CharacterDevice, 1, 3);
                t.Device("dev/loop7", TarEntryType.BlockDevice, 7, 7);
                t.Device("dev/bigminor", TarEntryType.CharacterDevice, 300, 70000);
                t.Fifo("dev/fifo");
                t.Dir("names/");
                t.File("names/" + TestLayers.LongName, "long\n");
                t.File("names/" + TestLayers.UnicodeName, "unicode\n");
                t.Dir("opaque/");
                t.File("opaque/old-a", "a\n");
                t.Dir("opaque/sub/");
                t.File("opaque/sub/old-b", "b\n");
                t.Dir("del/");
                t.File("del/keep", "keep\n");
                t.File("del/gone", "gone\n");
                t.Dir("del/gonedir/");
                t.File("del/gonedir/inner", "inner\n");
                t.Dir("replace/");
                t.File("replace/was-file", "file\n");
                t.Dir("replace/was-dir/");
                t.File("replace/was-dir/x", "x\n");
                t.Dir("many/");
                for (int i = 0; i < 10_000; i++)
                {
                    t.File($"many/f{i:D5}", $"file {i}\n" + new string((char)('a' + (i % 26)), i % 300));
                }

                break;
            case 1:
                t.Whiteout("del/.wh.gone");
                t.Whiteout("del/.wh.gonedir");
                t.Whiteout("opaque/.wh..wh..opq");
                t.File("opaque/new", "new in layer 1\n");
                t.File("data/file1", "version two, longer\n", 0x180);
                t.Dir("replace/was-file/");
                t.File("replace/was-file/now-dir", "now a dir\n");
                t.Symlink("replace/was-dir", "was-file");

                // Same bytes as a layer-0 file: deduplicated against layer 0's blob.
                t.Dir("dup/");
                t.File("dup/same-as-passwd", "root:x:0:0:root:/root:/bin/sh\n");
                t.Dir("layer1/");
                t.File("layer1/random", RandomBytes(3 * 1024 * 1024 + 17, 1));
                break;
            case 2:
                t.Whiteout("many/.wh.f00007");
                t.Whiteout("data/.wh.hl-c");
                t.Dir("layer2/");
                t.File("layer2/tail", RandomBytes(5000, 2));
                t.FileWithBinaryXattr("layer2/binary-xattr", "caps\n"u8.ToArray(), "user.binary", [0xFF, 0xFE, 0x80, 0x01, 0x02, 0xC3]);
                break;
        }
    }

    private static byte[] RandomBytes(int length, int seed)
    {
        byte[] data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }
}
