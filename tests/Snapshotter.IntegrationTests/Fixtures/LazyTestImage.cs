using System.Formats.Tar;
using System.Text;

namespace Snapshotter.IntegrationTests.Fixtures;

/// <summary>
/// The image the lazy-pull tests convert and pull: three hand-written layers (added to an umoci layout with
/// <c>umoci raw add-layer</c>, which gzips them) holding the static busybox as <c>/bin/busybox</c> with applet
/// symlinks, 2000 small files, a 64 MiB random file, whiteouts of a file and a directory, an opaque directory
/// (<c>.wh..wh..opq</c>), a hardlink pair, relative, absolute and dangling symlinks and a <c>user.</c> xattr. Contents
/// are deterministic (seeded), so the same build gives the same digests.
/// </summary>
public static class LazyTestImage
{
    /// <summary>What the image's default command prints.</summary>
    public const string CommandOutput = "hello from the lazy image";

    public const long BigFileSize = 64L << 20;

    public const string BigFile = "/big/random.bin";

    public const string SmallFile = "/data/keep.txt";

    public const string SmallFileContent = "keep-v1";

    public const string HardLink1 = "/links/hard1";

    public const string HardLink2 = "/links/hard2";

    public const string XattrFile = "/xattr/file";

    public const string XattrName = "user.lazy";

    public const string XattrValue = "hello-xattr";

    public const int SmallDirectories = 20;

    public const int FilesPerDirectory = 100;

    /// <summary>Paths an earlier layer had that a whiteout or the opaque directory removed.</summary>
    public static readonly IReadOnlyList<string> DeletedPaths =
    [
        "/data/delete.txt", // .wh.delete.txt in layer 2
        "/deldir",          // .wh.deldir in layer 2 (a whole directory)
        "/opq/old1.txt",    // hidden by opq/.wh..wh..opq in layer 3
        "/opq/sub",         // hidden by opq/.wh..wh..opq in layer 3
    ];

    /// <summary>The symlinks the layers write (path -> target).</summary>
    public static readonly IReadOnlyDictionary<string, string> DesignedSymlinks = new Dictionary<string, string>
    {
        ["/links/rel"] = "target.txt",
        ["/links/abs"] = "/data/keep.txt",
        ["/links/dangling"] = "/nonexistent/file",
        ["/bin/sh"] = "busybox",
    };

    private static readonly string[] Applets = ["sh", "cat", "ls", "find", "sort", "xargs", "sed", "sha256sum", "stat", "readlink", "test", "sleep", "echo", "tr", "wc"];

    /// <summary>
    /// A busybox script run in a container: <c>F &lt;sha256&gt;  &lt;path&gt;</c> for every regular file of the root file
    /// system (<c>-xdev</c>: not /proc, /sys, /dev), <c>L &lt;path&gt; -&gt; &lt;target&gt;</c> for every symlink,
    /// <c>H &lt;path&gt; &lt;links&gt; &lt;inode&gt;</c> for the hardlink pair, <c>PRESENT &lt;path&gt;</c> for any
    /// deleted path that is still there, and <c>OPQ &lt;entries&gt;</c> for the opaque directory.
    /// </summary>
    public static string TreeScript
    {
        get
        {
            var sb = new StringBuilder();
            sb.Append("B=/bin/busybox; ");
            sb.Append("$B find / -xdev -type f | $B sort | $B xargs $B sha256sum | $B sed 's/^/F /'; ");
            sb.Append("$B find / -xdev -type l | $B sort | while read -r l; do echo \"L $l -> $($B readlink \"$l\")\"; done; ");
            sb.Append($"$B stat -c 'H %n %h %i' {HardLink1} {HardLink2}; ");
            sb.Append($"for p in {string.Join(' ', DeletedPaths)}; do if $B test -e \"$p\" -o -L \"$p\"; then echo \"PRESENT $p\"; fi; done; ");
            sb.Append("echo \"OPQ $($B ls -a /opq | $B tr '\\n' ' ')\"");
            return sb.ToString();
        }
    }

    /// <summary>Builds the image as <paramref name="tag"/> in a new OCI layout at <paramref name="layout"/>, using <paramref name="work"/> for temp files.</summary>
    public static async Task BuildLayoutAsync(string layout, string tag, string work)
    {
        Tools.Require("umoci");
        string busybox = Tools.RequireStaticBusybox();
        string image = $"{layout}:{tag}";
        await Umoci("init", "--layout", layout).ConfigureAwait(false);
        await Umoci("new", "--image", image).ConfigureAwait(false);

        string layer1 = Path.Combine(work, "layer1.tar");
        await WriteTarAsync(layer1, async tar =>
        {
            await Dir(tar, "bin/").ConfigureAwait(false);
            await FileFromDisk(tar, "bin/busybox", busybox, 0b111_101_101).ConfigureAwait(false);
            foreach (string applet in Applets)
            {
                await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.SymbolicLink, "bin/" + applet) { LinkName = "busybox" }).ConfigureAwait(false);
            }

            await Dir(tar, "tmp/", 0b111_111_111 | (int)UnixFileMode.StickyBit).ConfigureAwait(false);
            await Dir(tar, "data/").ConfigureAwait(false);
            await Text(tar, "data/keep.txt", SmallFileContent).ConfigureAwait(false);
            await Text(tar, "data/replace.txt", "replace-v1").ConfigureAwait(false);
            await Text(tar, "data/delete.txt", "delete-me").ConfigureAwait(false);
            await Dir(tar, "deldir/").ConfigureAwait(false);
            await Text(tar, "deldir/inner.txt", "in a deleted dir").ConfigureAwait(false);
            await Dir(tar, "opq/").ConfigureAwait(false);
            await Text(tar, "opq/old1.txt", "old1").ConfigureAwait(false);
            await Dir(tar, "opq/sub/").ConfigureAwait(false);
            await Text(tar, "opq/sub/old2.txt", "old2").ConfigureAwait(false);
            await Dir(tar, "links/").ConfigureAwait(false);
            await Text(tar, "links/target.txt", "link target").ConfigureAwait(false);

            // Many small files: what real images have most of, packed into shared chunks by the converter.
            var random = new Random(20261201);
            await Dir(tar, "many/").ConfigureAwait(false);
            for (int d = 0; d < SmallDirectories; d++)
            {
                await Dir(tar, $"many/d{d:D2}/").ConfigureAwait(false);
                for (int f = 0; f < FilesPerDirectory; f++)
                {
                    var content = new byte[random.Next(1, 3000)];
                    random.NextBytes(content);
                    await Bytes(tar, $"many/d{d:D2}/f{f:D3}", content).ConfigureAwait(false);
                }
            }
        }).ConfigureAwait(false);
        await Umoci("raw", "add-layer", "--image", image, layer1).ConfigureAwait(false);

        string big = Path.Combine(work, "random.bin");
        await WriteRandomFileAsync(big, BigFileSize, seed: 64).ConfigureAwait(false);
        string layer2 = Path.Combine(work, "layer2.tar");
        await WriteTarAsync(layer2, async tar =>
        {
            await Dir(tar, "big/").ConfigureAwait(false);
            await FileFromDisk(tar, "big/random.bin", big, 0b110_100_100).ConfigureAwait(false);
            await Dir(tar, "data/").ConfigureAwait(false);
            await Text(tar, "data/replace.txt", "replace-v2").ConfigureAwait(false);
            await Text(tar, "data/added.txt", "added-v2").ConfigureAwait(false);
            await Whiteout(tar, "data/.wh.delete.txt").ConfigureAwait(false);
            await Whiteout(tar, ".wh.deldir").ConfigureAwait(false);
            await Dir(tar, "links/").ConfigureAwait(false);
            await Text(tar, "links/hard1", "hard-linked content").ConfigureAwait(false);
            await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.HardLink, "links/hard2") { LinkName = "links/hard1" }).ConfigureAwait(false);
            foreach (var (path, target) in DesignedSymlinks.Where(l => l.Key.StartsWith("/links/", StringComparison.Ordinal)))
            {
                await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.SymbolicLink, path[1..]) { LinkName = target }).ConfigureAwait(false);
            }

            await Dir(tar, "xattr/").ConfigureAwait(false);
            var xattr = new Dictionary<string, string> { ["SCHILY.xattr." + XattrName] = XattrValue };
            await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, "xattr/file", xattr)
            {
                Mode = (UnixFileMode)0b110_100_100,
                DataStream = new MemoryStream("has an xattr\n"u8.ToArray()),
            }).ConfigureAwait(false);
            await Dir(tar, "many/").ConfigureAwait(false);
            await Dir(tar, "many/d00/").ConfigureAwait(false);
            await Text(tar, "many/d00/f000", "replaced in layer 2").ConfigureAwait(false);
        }).ConfigureAwait(false);
        await Umoci("raw", "add-layer", "--image", image, layer2).ConfigureAwait(false);
        File.Delete(big);

        string layer3 = Path.Combine(work, "layer3.tar");
        await WriteTarAsync(layer3, async tar =>
        {
            await Dir(tar, "opq/").ConfigureAwait(false);
            await Whiteout(tar, "opq/.wh..wh..opq").ConfigureAwait(false);
            await Text(tar, "opq/new.txt", "opaque-new").ConfigureAwait(false);
            await Dir(tar, "bin/").ConfigureAwait(false);
            await Bytes(tar, "bin/script.sh", "#!/bin/sh\necho script-ok\n"u8.ToArray(), 0b111_101_101).ConfigureAwait(false);
        }).ConfigureAwait(false);
        await Umoci("raw", "add-layer", "--image", image, layer3).ConfigureAwait(false);

        await Umoci("config", "--image", image, "--config.cmd", "/bin/sh", "--config.cmd", "-c", "--config.cmd", "echo " + CommandOutput).ConfigureAwait(false);
        await Umoci("gc", "--layout", layout).ConfigureAwait(false);
        File.Delete(layer1);
        File.Delete(layer2);
        File.Delete(layer3);
    }

    private static async Task WriteTarAsync(string path, Func<TarWriter, Task> write)
    {
        await using var stream = File.Create(path);
        await using var tar = new TarWriter(stream, TarEntryFormat.Pax);
        await write(tar).ConfigureAwait(false);
    }

    private static Task Dir(TarWriter tar, string name, int mode = 0b111_101_101) =>
        tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.Directory, name) { Mode = (UnixFileMode)mode });

    private static Task Text(TarWriter tar, string name, string content) => Bytes(tar, name, Encoding.UTF8.GetBytes(content + "\n"));

    private static Task Bytes(TarWriter tar, string name, byte[] content, int mode = 0b110_100_100) =>
        tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, name) { Mode = (UnixFileMode)mode, DataStream = new MemoryStream(content) });

    private static Task Whiteout(TarWriter tar, string name) =>
        tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, name) { Mode = (UnixFileMode)0b110_100_100 });

    private static async Task FileFromDisk(TarWriter tar, string name, string source, int mode)
    {
        await using var data = File.OpenRead(source);
        await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, name) { Mode = (UnixFileMode)mode, DataStream = data }).ConfigureAwait(false);
    }

    private static async Task WriteRandomFileAsync(string path, long size, int seed)
    {
        var random = new Random(seed);
        var buffer = new byte[1 << 20];
        await using var file = File.Create(path);
        for (long written = 0; written < size; written += buffer.Length)
        {
            random.NextBytes(buffer);
            await file.WriteAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, size - written))).ConfigureAwait(false);
        }
    }

    private static async Task Umoci(params string[] args) =>
        (await ProcessRunner.RunAsync("umoci", args, TimeSpan.FromMinutes(5)).ConfigureAwait(false)).EnsureSuccess();
}
