using System.Formats.Tar;

namespace Snapshotter.IntegrationTests.Fixtures;

/// <summary>
/// A multi-layer OCI image built locally once per test run with umoci from the static
/// <c>/bin/busybox</c>, packed as an OCI archive that <c>ctr images import</c> accepts.
/// Layer 1 adds files, layer 2 replaces, adds and deletes (umoci's <c>.wh.</c> whiteouts),
/// layer 3 is hand-made with an opaque whiteout (<c>opq/.wh..wh..opq</c>), which umoci never writes.
/// </summary>
public sealed class TestImage : IAsyncLifetime
{
    /// <summary>What the image's default command prints.</summary>
    public const string CommandOutput = "hello from the lazy test image";

    /// <summary>ctr 1.6 names an imported bare tag <c>import-DATE:TAG</c> unless given <c>--base-name</c>.</summary>
    public const string BaseName = "localhost/lazy-test";

    public const string Tag = "v1";

    /// <summary>The image reference after <c>ctr images import --base-name BaseName</c>.</summary>
    public const string Reference = BaseName + ":" + Tag;

    public const int LayerCount = 3;

    /// <summary>Files and the content a container must see (after every layer is applied).</summary>
    public static readonly IReadOnlyDictionary<string, string> ExpectedFiles = new Dictionary<string, string>
    {
        ["/data/keep.txt"] = "keep-v1",        // added in layer 1, untouched
        ["/data/replace.txt"] = "replace-v2",  // layer 1 wrote replace-v1, layer 2 replaced it
        ["/data/added.txt"] = "added-v2",      // added in layer 2
        ["/opq/new.txt"] = "opaque-new",       // added in layer 3 next to the opaque marker
    };

    /// <summary>Paths that exist in an earlier layer and must be gone in a container.</summary>
    public static readonly IReadOnlyList<string> DeletedPaths =
    [
        "/data/delete.txt", // .wh.delete.txt in layer 2
        "/deldir",          // .wh.deldir in layer 2 (a whole directory)
        "/opq/old1.txt",    // hidden by the opaque dir in layer 3
        "/opq/sub",         // hidden by the opaque dir in layer 3
    ];

    private string? _workDir;

    /// <summary>The OCI archive to pass to <c>ctr images import</c>.</summary>
    public string ArchivePath { get; private set; } = "";

    public async Task InitializeAsync()
    {
        try
        {
            await BuildAsync().ConfigureAwait(false);
        }
        catch
        {
            await DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task BuildAsync()
    {
        Tools.RequireRoot();
        Tools.Require("umoci");
        string busybox = Tools.RequireStaticBusybox();
        _workDir = System.IO.Directory.CreateTempSubdirectory("lzit-image-").FullName;
        string layout = Path.Combine(_workDir, "oci");
        string image = $"{layout}:{Tag}";
        string bundle = Path.Combine(_workDir, "bundle");
        string rootfs = Path.Combine(bundle, "rootfs");

        await Umoci("init", "--layout", layout).ConfigureAwait(false);
        await Umoci("new", "--image", image).ConfigureAwait(false);
        await Umoci("unpack", "--image", image, bundle).ConfigureAwait(false);

        // Layer 1: busybox + files that later layers replace, delete or hide.
        System.IO.Directory.CreateDirectory(Path.Combine(rootfs, "bin"));
        File.Copy(busybox, Path.Combine(rootfs, "bin", "busybox"));
        foreach (string applet in new[] { "sh", "cat", "ls", "echo", "test", "du" })
        {
            File.CreateSymbolicLink(Path.Combine(rootfs, "bin", applet), "busybox");
        }

        Write(rootfs, "data/keep.txt", "keep-v1");
        Write(rootfs, "data/replace.txt", "replace-v1");
        Write(rootfs, "data/delete.txt", "delete-me");
        Write(rootfs, "deldir/inner.txt", "in a deleted dir");
        Write(rootfs, "opq/old1.txt", "old1");
        Write(rootfs, "opq/sub/old2.txt", "old2");
        System.IO.Directory.CreateDirectory(Path.Combine(rootfs, "tmp"));
        // --refresh-bundle: without it every repack diffs against the first unpack (one squashed layer).
        await Umoci("repack", "--refresh-bundle", "--image", image, bundle).ConfigureAwait(false);

        // Layer 2: replace, add, delete a file and a directory.
        Write(rootfs, "data/replace.txt", "replace-v2");
        Write(rootfs, "data/added.txt", "added-v2");
        File.Delete(Path.Combine(rootfs, "data/delete.txt"));
        System.IO.Directory.Delete(Path.Combine(rootfs, "deldir"), recursive: true);
        await Umoci("repack", "--refresh-bundle", "--image", image, bundle).ConfigureAwait(false);

        // Layer 3: opaque directory, written by hand.
        string layer3 = Path.Combine(_workDir, "layer3.tar");
        await using (var stream = File.Create(layer3))
        await using (var tar = new TarWriter(stream, TarEntryFormat.Pax))
        {
            await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.Directory, "opq/") { Mode = (UnixFileMode)0b111_101_101 }).ConfigureAwait(false);
            await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, "opq/.wh..wh..opq") { Mode = (UnixFileMode)0b110_100_100 }).ConfigureAwait(false);
            var data = new MemoryStream("opaque-new"u8.ToArray());
            await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, "opq/new.txt") { Mode = (UnixFileMode)0b110_100_100, DataStream = data }).ConfigureAwait(false);
        }

        await Umoci("raw", "add-layer", "--image", image, layer3).ConfigureAwait(false);
        await Umoci("config", "--image", image, "--config.cmd", "/bin/sh", "--config.cmd", "-c", "--config.cmd", "echo " + CommandOutput).ConfigureAwait(false);
        await Umoci("gc", "--layout", layout).ConfigureAwait(false);

        ArchivePath = Path.Combine(_workDir, "image.tar");
        await TarFile.CreateFromDirectoryAsync(layout, ArchivePath, includeBaseDirectory: false).ConfigureAwait(false);
    }

    public Task DisposeAsync()
    {
        if (_workDir is not null && System.IO.Directory.Exists(_workDir))
        {
            System.IO.Directory.Delete(_workDir, recursive: true);
        }

        return Task.CompletedTask;
    }

    private static void Write(string rootfs, string relative, string content)
    {
        string path = Path.Combine(rootfs, relative);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content + "\n");
    }

    private static async Task Umoci(params string[] args) =>
        (await ProcessRunner.RunAsync("umoci", args).ConfigureAwait(false)).EnsureSuccess();
}
