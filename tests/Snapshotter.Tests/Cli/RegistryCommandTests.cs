using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Snapshotter.Registry;
using Snapshotter.Registry.Tests.Infrastructure;
using Snapshotter.Tests.Hosting;

namespace Snapshotter.Tests.Cli;

/// <summary><c>snapshotter registry manifest|blob</c> against a real docker-registry.</summary>
public sealed class RegistryCommandTests : IAsyncLifetime
{
    private RegistryProcess? _registry;
    private byte[] _layer = [];
    private string _layerDigest = string.Empty;
    private string _manifestDigest = string.Empty;

    private RegistryProcess Registry => _registry!;

    private string Repo => $"{Registry.Host}/cli/test";

    public async Task InitializeAsync()
    {
        _registry = await RegistryProcess.StartAsync();
        using var client = new RegistryClient(new RegistryClientOptions { HostsDirectory = null });
        var repo = ImageReference.Parse(Repo);
        _layer = RandomNumberGenerator.GetBytes(300_000);
        _layerDigest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(_layer));
        var config = Encoding.UTF8.GetBytes("""{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}""");
        var configDigest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(config));
        await client.PushBlobAsync(new BlobLocator(repo, _layerDigest), new MemoryStream(_layer));
        await client.PushBlobAsync(new BlobLocator(repo, configDigest), new MemoryStream(config));
        var manifest = Encoding.UTF8.GetBytes(
            $$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{configDigest}}","size":{{config.Length}}},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{{_layerDigest}}","size":{{_layer.Length}}}]}""");
        _manifestDigest = await client.PushManifestAsync(repo.WithTag("v1"), "application/vnd.oci.image.manifest.v1+json", manifest);
    }

    public async Task DisposeAsync()
    {
        if (_registry is not null)
        {
            await _registry.DisposeAsync();
        }
    }

    [Fact]
    public async Task Manifest_TaggedImage_PrintsVerifiedManifestJson()
    {
        var (exit, stdout, stderr) = await ServeProcess.RunToEndAsync("registry", "manifest", $"{Repo}:v1");

        Assert.True(exit == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        Assert.Equal(_layerDigest, json.RootElement.GetProperty("layers")[0].GetProperty("digest").GetString());
        Assert.Equal(_manifestDigest, "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(stdout.TrimEnd('\n')))));
    }

    [Fact]
    public async Task Blob_WithRange_WritesExactlyThoseBytes()
    {
        var (exit, stdout, stderr) = await ServeProcess.RunToEndBinaryAsync("registry", "blob", $"{Repo}@{_layerDigest}", "--range", "1000-1015");

        Assert.True(exit == 0, stderr);
        Assert.Equal(_layer.AsSpan(1000, 16).ToArray(), stdout);
    }

    [Fact]
    public async Task Blob_Whole_WritesTheVerifiedBlob()
    {
        var (exit, stdout, stderr) = await ServeProcess.RunToEndBinaryAsync("registry", "blob", $"{Repo}@{_layerDigest}");

        Assert.True(exit == 0, stderr);
        Assert.Equal(_layer, stdout);
    }

    [Fact]
    public async Task Manifest_MissingTag_FailsNamingNotFound()
    {
        var (exit, _, stderr) = await ServeProcess.RunToEndAsync("registry", "manifest", $"{Repo}:nope");

        Assert.Equal(1, exit);
        Assert.Contains("not found", stderr, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Manifest_InvalidReference_FailsWithExitTwo()
    {
        var (exit, _, stderr) = await ServeProcess.RunToEndAsync("registry", "manifest", "UPPER/Case::bad");

        Assert.Equal(2, exit);
        Assert.False(string.IsNullOrWhiteSpace(stderr));
    }
}
