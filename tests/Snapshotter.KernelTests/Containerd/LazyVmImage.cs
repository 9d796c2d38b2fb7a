using Snapshotter.Lazy.Conversion;
using Snapshotter.Oci;
using System.Formats.Tar;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Snapshotter.Erofs;
using Snapshotter.Erofs.Conversion;
using Snapshotter.Registry;

namespace Snapshotter.KernelTests.Containerd;

/// <summary>
/// A runnable test image, built in the guest and converted (zstd, 1 MiB chunks) straight into a guest registry:
/// <list type="number">
/// <item>base: the static busybox and its applets, <c>/etc/motd</c>;</item>
/// <item>data: small text files <c>/data/small/a00..a15.txt</c>, one big generated file <c>/data/big.bin</c>, then
/// <c>/data/small/b00..b15.txt</c> (this layer's data blob is the one whose served bytes the tests count);</item>
/// <item>top: replaces <c>a05.txt</c>, whites out <c>b15.txt</c>, replaces <c>/etc/motd</c>.</item>
/// </list>
/// Nothing big is held in memory: the big file is generated while the tar is written.
/// </summary>
internal sealed class LazyVmImage
{
    public const int ChunkSize = 1024 * 1024;
    public const string BigPath = "/data/big.bin";
    public const int SmallFilesPerGroup = 16;
    private const int BigSeed = 4711;
    private static readonly string[] Applets = ["sh", "cat", "sha256sum", "dd", "sleep", "test", "echo", "ls"];

    private LazyVmImage(string reference, long bigSize, Dictionary<string, byte[]> files, ConversionResult conversion)
    {
        Reference = reference;
        BigSize = bigSize;
        Files = files;
        DataBlob = conversion.DataBlobs[1];
        Conversion = conversion;
    }

    /// <summary>The image in the guest registry (<c>127.0.0.1:port/repo:tag</c>).</summary>
    public string Reference { get; }

    public long BigSize { get; }

    /// <summary>Every small file a container sees, by absolute path, with its final content.</summary>
    public IReadOnlyDictionary<string, byte[]> Files { get; }

    /// <summary>The data blob of the data layer (the big one).</summary>
    public Descriptor DataBlob { get; }

    /// <summary>Every data blob of the image (base, data, top), what a lazy pull must not download.</summary>
    public IReadOnlyList<Descriptor> DataBlobs => Conversion.DataBlobs;

    public ConversionResult Conversion { get; }

    /// <summary>
    /// Builds the image and converts it into <paramref name="reference"/> (registry settings from
    /// <paramref name="hostsDirectory"/>; <paramref name="workDirectory"/> holds the converter's temp files).
    /// </summary>
    public static async Task<LazyVmImage> BuildAsync(string reference, long bigSize, string hostsDirectory, string workDirectory)
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var config = JsonSerializer.SerializeToUtf8Bytes(new
        {
            architecture = "amd64",
            os = "linux",
            config = new { Env = new[] { "PATH=/bin" }, Cmd = new[] { "/bin/sh", "-c", "cat /etc/motd" } },
            rootfs = new { type = "layers", diff_ids = Array.Empty<string>() },
        });
        var source = new GeneratedImageSource(config, [w => BaseLayer(w, files), w => DataLayer(w, files, bigSize), w => TopLayer(w, files)]);
        using var client = new RegistryClient(new RegistryClientOptions
        {
            HostsDirectory = hostsDirectory,
            DockerConfigPath = Path.Combine(workDirectory, "no-docker-config.json"),
        });
        var conversion = await ImageConverter.ConvertAsync(
            source,
            new RegistryImageSink(client, Registry.ImageReference.Parse(reference)),
            new ImageBuildOptions { Compressor = ChunkCompressor.Zstd, ChunkSize = ChunkSize },
            workDirectory: workDirectory);
        await source.CompleteAsync();
        if (conversion.DataBlobs.Count != 3)
        {
            throw new InvalidOperationException($"expected 3 data blobs, the converter made {conversion.DataBlobs.Count}");
        }

        return new LazyVmImage(reference, bigSize, files, conversion);
    }

    /// <summary>The bytes at [<paramref name="offset"/>, +<paramref name="count"/>) of <see cref="BigPath"/>.</summary>
    public byte[] BigBytes(long offset, int count)
    {
        var data = new byte[count];
        new GeneratedFileStream(BigSize, BigSeed).Fill(offset, data);
        return data;
    }

    /// <summary>
    /// A shell command reading a few small files of group <paramref name="group"/> (<c>a</c> or <c>b</c>) and the 4 KiB
    /// block number <paramref name="block"/> of the big file, and exactly what it must print. Tests read different blocks,
    /// so each one's read of the big file is a cold chunk whatever ran before.
    /// </summary>
    public (string Script, string Expected) ReadScript(char group, long block)
    {
        if (block < 0 || block >= BigSize / 4096)
        {
            throw new ArgumentOutOfRangeException(nameof(block), block, $"the big file has {BigSize / 4096} blocks");
        }

        int[] numbers = group == 'a' ? [2, 5, 11] : [3, 8, 14];
        var paths = numbers.Select(i => $"/data/small/{group}{i:D2}.txt").ToArray();
        var script = new StringBuilder()
            .Append("cat /etc/motd; ")
            .Append("sha256sum ").AppendJoin(' ', paths).Append("; ")
            .Append(CultureInfo.InvariantCulture, $"dd if={BigPath} bs=4096 skip={block} count=1 2>/dev/null | sha256sum; ")
            .Append("test -e /data/small/b15.txt && echo b15-present || echo b15-absent")
            .ToString();
        var expected = new StringBuilder()
            .Append(Encoding.UTF8.GetString(Files["/etc/motd"]));
        foreach (var path in paths)
        {
            expected.Append(Sha(Files[path])).Append("  ").Append(path).Append('\n');
        }

        expected.Append(Sha(BigBytes(block * 4096, 4096))).Append("  -\n").Append("b15-absent\n");
        return (script, expected.ToString());
    }

    private static string Sha(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    private static void BaseLayer(TarWriter w, Dictionary<string, byte[]> files)
    {
        foreach (var dir in new[] { "bin/", "etc/", "tmp/", "data/" })
        {
            w.WriteEntry(new PaxTarEntry(TarEntryType.Directory, dir) { Mode = (UnixFileMode)0x1ED });
        }

        using (var busybox = File.OpenRead("/bin/busybox"))
        {
            w.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "bin/busybox") { DataStream = busybox, Mode = (UnixFileMode)0x1ED });
        }

        foreach (var applet in Applets)
        {
            w.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "bin/" + applet) { LinkName = "busybox" });
        }

        AddText(w, files, "etc/motd", "lazy vm image, base layer\n");
    }

    private static void DataLayer(TarWriter w, Dictionary<string, byte[]> files, long bigSize)
    {
        w.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "data/small/") { Mode = (UnixFileMode)0x1ED });
        var random = new Random(2025);
        AddSmallGroup(w, files, random, 'a');
        using (var big = new GeneratedFileStream(bigSize, BigSeed))
        {
            w.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, BigPath[1..]) { DataStream = big, Mode = (UnixFileMode)0x1A4 });
        }

        AddSmallGroup(w, files, random, 'b');
    }

    private static void TopLayer(TarWriter w, Dictionary<string, byte[]> files)
    {
        AddText(w, files, "data/small/a05.txt", "a05 replaced in the top layer\n");
        w.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "data/small/.wh.b15.txt") { DataStream = new MemoryStream() });
        files.Remove("/data/small/b15.txt");
        AddText(w, files, "etc/motd", "lazy vm image v1: motd from the top layer\n");
    }

    private static void AddSmallGroup(TarWriter w, Dictionary<string, byte[]> files, Random random, char group)
    {
        for (var i = 0; i < SmallFilesPerGroup; i++)
        {
            var text = new StringBuilder().Append(CultureInfo.InvariantCulture, $"file {group}{i:D2}\n");
            var lines = random.Next(10, 120);
            for (var l = 0; l < lines; l++)
            {
                text.Append(Convert.ToHexStringLower(BitConverter.GetBytes(random.NextInt64()))).Append(' ').Append(l).Append('\n');
            }

            AddText(w, files, $"data/small/{group}{i:D2}.txt", text.ToString());
        }
    }

    private static void AddText(TarWriter w, Dictionary<string, byte[]> files, string path, string text)
    {
        var data = Encoding.UTF8.GetBytes(text);
        w.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, path) { DataStream = new MemoryStream(data), Mode = (UnixFileMode)0x1A4 });
        files["/" + path] = data;
    }
}
