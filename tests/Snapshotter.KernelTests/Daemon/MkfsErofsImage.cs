using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Snapshotter.KernelTests.Daemon;

/// <summary>
/// A reference image built by Debian's mkfs.erofs (code that is not ours): chunk-based bootstrap + one raw blob
/// device, with the device tag patched in (mkfs.erofs 1.5 writes none and fscache mode needs one).
/// </summary>
internal sealed class MkfsErofsImage : IDisposable
{
    private MkfsErofsImage(string dir)
    {
        Directory = dir;
    }

    public string Directory { get; }

    public string Source => Path.Combine(Directory, "src");

    public string Bootstrap => Path.Combine(Directory, "meta.img");

    public string Blob => Path.Combine(Directory, "blob.img");

    public static MkfsErofsImage Create(string tag, int chunkSize = 65536)
    {
        var image = new MkfsErofsImage(System.IO.Directory.CreateTempSubdirectory("kimg").FullName);
        var src = System.IO.Directory.CreateDirectory(image.Source).FullName;
        var random = new Random(42);
        WriteRandom(Path.Combine(src, "big.bin"), 5 * 1024 * 1024 + 123, random);
        WriteRandom(Path.Combine(src, "chunk-exact.bin"), chunkSize, random);
        File.WriteAllBytes(Path.Combine(src, "empty"), []);
        var dir = System.IO.Directory.CreateDirectory(Path.Combine(src, "dir", "nested")).FullName;
        for (var i = 0; i < 200; i++)
        {
            WriteRandom(Path.Combine(dir, $"small-{i:D3}.txt"), random.Next(1, 9000), random);
        }

        File.CreateSymbolicLink(Path.Combine(src, "link-to-big"), "big.bin");
        KernelEnvironment.Run("mkfs.erofs", $"--chunksize={chunkSize}", $"--blobdev={image.Blob}", image.Bootstrap, src);
        PatchDeviceTag(image.Bootstrap, tag);
        return image;
    }

    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);

    private static void WriteRandom(string path, int size, Random random)
    {
        var data = new byte[size];
        random.NextBytes(data);
        File.WriteAllBytes(path, data);
    }

    /// <summary>Writes the device slot's tag and clears the superblock checksum feature (the crc would be stale).</summary>
    private static void PatchDeviceTag(string bootstrap, string tag)
    {
        using var file = new FileStream(bootstrap, FileMode.Open, FileAccess.ReadWrite);
        var sb = new byte[128];
        file.Position = 1024;
        file.ReadExactly(sb);
        Assert.Equal(0xE0F5E1E2u, BinaryPrimitives.ReadUInt32LittleEndian(sb));
        var compat = BinaryPrimitives.ReadUInt32LittleEndian(sb.AsSpan(8));
        BinaryPrimitives.WriteUInt32LittleEndian(sb.AsSpan(8), compat & ~1u);
        var extraDevices = BinaryPrimitives.ReadUInt16LittleEndian(sb.AsSpan(86));
        var slotOffset = BinaryPrimitives.ReadUInt16LittleEndian(sb.AsSpan(88));
        Assert.Equal(1, extraDevices);
        file.Position = 1024;
        file.Write(sb);
        var slot = new byte[64];
        System.Text.Encoding.ASCII.GetBytes(tag).CopyTo(slot, 0);
        file.Position = slotOffset * 128L;
        file.Write(slot);
    }
}
