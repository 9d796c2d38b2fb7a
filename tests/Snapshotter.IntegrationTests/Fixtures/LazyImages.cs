using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Snapshotter.Erofs;
using Snapshotter.Erofs.Conversion;
using Snapshotter.Registry;
using Snapshotter.Lazy.Conversion;
using Snapshotter.Oci;
using RegistryReference = Snapshotter.Registry.ImageReference;

namespace Snapshotter.IntegrationTests.Fixtures;

/// <summary>
/// Once per test run, on first use (tests that never pull lazily never pay for it): a real docker-registry on
/// 127.0.0.1 with its access log on, a hosts directory that makes it plain HTTP for containerd and our service, and
/// <see cref="LazyTestImage"/> pushed as an ordinary OCI image (gzip layers, with skopeo), converted with our converter
/// (zstd: the lazy image every test pulls; lz4: a second lazy image with its own blobs, pulled by exactly one test per
/// class so that its reads find a cold cache), and a copy of the lazy image whose bootstrap is garbage.
/// The expected tree comes from an independent unpack of the OCI image with umoci.
/// </summary>
public sealed class LazyImages : IAsyncLifetime
{
    public const string Repository = "test/app";

    private readonly SemaphoreSlim _gate = new(1, 1);
    private string? _work;
    private bool _ready;

    public TestRegistry Registry { get; private set; } = null!;

    /// <summary>containerd-style <c>&lt;host&gt;/hosts.toml</c> directory for the registry (CRI <c>config_path</c>, serve <c>--hosts-dir</c>).</summary>
    public string HostsDirectory { get; private set; } = "";

    public ImageTree Expected { get; private set; } = null!;

    public string OciReference => $"{Registry.Host}/{Repository}:oci";

    public string LazyReference => $"{Registry.Host}/{Repository}:lazy";

    /// <summary>
    /// The lz4 conversion with blake3 chunk digests (nydus-image's default; the lazy image has ours, sha256): different data blobs, read
    /// by one test per fixture only (a cold cache), and the other digester end to end.
    /// </summary>
    public string ColdReference => $"{Registry.Host}/{Repository}:lazy-lz4";

    public string CorruptReference => $"{Registry.Host}/{Repository}:corrupt";

    internal ConversionResult Lazy { get; private set; } = null!;

    internal ConversionResult Cold { get; private set; } = null!;

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Builds and pushes everything the first time; later calls return at once.</summary>
    public async Task EnsureAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!_ready)
            {
                await BuildAsync().ConfigureAwait(false);
                _ready = true;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task BuildAsync()
    {
        Tools.RequireRoot();
        Tools.Require("skopeo");
        var started = System.Diagnostics.Stopwatch.StartNew();
        _work = Directory.CreateTempSubdirectory("lzit-lazyimg-").FullName;
        Registry = await TestRegistry.StartAsync(Path.Combine(_work, "registry")).ConfigureAwait(false);
        HostsDirectory = Path.Combine(_work, "hosts");
        string hostDir = Path.Combine(HostsDirectory, Registry.Host);
        Directory.CreateDirectory(hostDir);
        await File.WriteAllTextAsync(Path.Combine(hostDir, "hosts.toml"), $"""
            server = "http://{Registry.Host}"

            [host."http://{Registry.Host}"]
              capabilities = ["pull", "resolve", "push"]
            """).ConfigureAwait(false);

        const string tag = "v1";
        string layout = Path.Combine(_work, "oci");
        await LazyTestImage.BuildLayoutAsync(layout, tag, _work).ConfigureAwait(false);

        // The oracle: umoci applies the layers (whiteouts, opaque dirs, hardlinks) independently of our code.
        string bundle = Path.Combine(_work, "bundle");
        (await ProcessRunner.RunAsync("umoci", ["unpack", "--image", $"{layout}:{tag}", bundle], TimeSpan.FromMinutes(5)).ConfigureAwait(false)).EnsureSuccess();
        Expected = ImageTree.FromDirectory(Path.Combine(bundle, "rootfs"));
        Directory.Delete(bundle, recursive: true);

        (await ProcessRunner.RunAsync(
            "skopeo", ["copy", "--quiet", "--dest-tls-verify=false", $"oci:{layout}:{tag}", $"docker://{OciReference}"], TimeSpan.FromMinutes(5)).ConfigureAwait(false)).EnsureSuccess();

        using var client = new RegistryClient(new RegistryClientOptions { HostsDirectory = HostsDirectory, DockerConfigPath = Path.Combine(_work, "no-docker-config.json") });
        Lazy = await ImageConverter.ConvertAsync(
            new OciLayout(layout, tag), new RegistryImageSink(client, RegistryReference.Parse(LazyReference)), new ImageBuildOptions(), workDirectory: _work).ConfigureAwait(false);
        Cold = await ImageConverter.ConvertAsync(
            new OciLayout(layout, tag), new RegistryImageSink(client, RegistryReference.Parse(ColdReference)),
            new ImageBuildOptions { Compressor = ChunkCompressor.Lz4Block, Digester = ChunkDigester.Blake3 }, workDirectory: _work).ConfigureAwait(false);
        await PushCorruptAsync(client).ConfigureAwait(false);
        Directory.Delete(layout, recursive: true);
        Console.Error.WriteLine($"[fixture] lazy test images built and pushed to {Registry.Host} in {started.Elapsed.TotalSeconds:F1}s");
    }

    /// <summary>The lazy image with its bootstrap layer replaced by one whose <c>image/image.boot</c> is random bytes.</summary>
    private async Task PushCorruptAsync(RegistryClient client)
    {
        var source = RegistryReference.Parse(LazyReference);
        var target = RegistryReference.Parse(CorruptReference);
        var manifest = JsonNode.Parse((await client.GetManifestAsync(source).ConfigureAwait(false)).Content.Span)!;

        using var tar = new MemoryStream();
        await using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
        {
            var garbage = new byte[64 << 10];
            new Random(666).NextBytes(garbage);
            await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.Directory, "image/") { Mode = (UnixFileMode)0b111_101_101 }).ConfigureAwait(false);
            await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, NydusAnnotations.BootstrapPath)
            {
                Mode = (UnixFileMode)0b110_100_100,
                DataStream = new MemoryStream(garbage),
            }).ConfigureAwait(false);
        }

        using var gz = new MemoryStream();
        await using (var gzip = new GZipStream(gz, CompressionLevel.Fastest, leaveOpen: true))
        {
            await gzip.WriteAsync(tar.ToArray()).ConfigureAwait(false);
        }

        byte[] layer = gz.ToArray();
        string layerDigest = Digest(layer);
        await client.PushBlobAsync(new BlobLocator(target, layerDigest), new MemoryStream(layer)).ConfigureAwait(false);

        // containerd checks each layer against the config's diff_ids: the new bootstrap layer needs its own.
        var configNode = manifest["config"]!;
        string configDigest = configNode["digest"]!.GetValue<string>();
        JsonNode config;
        await using (var stream = await client.OpenBlobAsync(new BlobLocator(source, configDigest)).ConfigureAwait(false))
        {
            config = (await JsonNode.ParseAsync(stream).ConfigureAwait(false))!;
        }

        var diffIds = config["rootfs"]!["diff_ids"]!.AsArray();
        diffIds[^1] = Digest(tar.ToArray());
        byte[] configBytes = System.Text.Encoding.UTF8.GetBytes(config.ToJsonString());
        await client.PushBlobAsync(new BlobLocator(target, Digest(configBytes)), new MemoryStream(configBytes)).ConfigureAwait(false);
        configNode["digest"] = Digest(configBytes);
        configNode["size"] = configBytes.Length;

        var layers = manifest["layers"]!.AsArray();
        layers[^1]!["digest"] = layerDigest;
        layers[^1]!["size"] = layer.Length;
        byte[] manifestBytes = System.Text.Encoding.UTF8.GetBytes(manifest.ToJsonString());
        await client.PushManifestAsync(target, MediaTypes.OciManifest, manifestBytes).ConfigureAwait(false);
    }

    public async Task DisposeAsync()
    {
        if (Registry is not null)
        {
            await Registry.DisposeAsync().ConfigureAwait(false);
        }

        if (_work is not null && Directory.Exists(_work))
        {
            Directory.Delete(_work, recursive: true);
        }

        _gate.Dispose();
    }

    private static string Digest(byte[] data) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(data));
}
