using Snapshotter.Registry.Tests.Infrastructure;
using Snapshotter.Oci;

namespace Snapshotter.Registry.Tests;

/// <summary>hosts.toml mirrors against a real registry: order, fallback to the origin, extra headers.</summary>
public sealed class RegistryClientHostsTests : IClassFixture<AnonymousRegistryFixture>, IDisposable
{
    private readonly RegistryProcess _registry;
    private readonly TempDirectory _dir = new("hosts");

    public RegistryClientHostsTests(AnonymousRegistryFixture fixture)
    {
        _registry = fixture.Registry;
    }

    public void Dispose() => _dir.Dispose();

    private string WriteHosts(string registry, string toml)
    {
        string dir = Directory.CreateDirectory(_dir.Combine(registry)).FullName;
        File.WriteAllText(Path.Combine(dir, "hosts.toml"), toml);
        return _dir.Path;
    }

    private async Task<TestImage> PushAsync(string name)
    {
        using var client = new RegistryClient(TestClients.Options());
        TestImage image = TestImage.Create(Platform.Default, name.Length + 40, 2000);
        await image.PushAsync(client, ImageReference.Parse($"{_registry.Host}/{name}"), tag: "v1");
        return image;
    }

    [Fact]
    public async Task Resolve_OriginDownMirrorUp_UsesMirrorWithHeaders()
    {
        TestImage image = await PushAsync("mirror/app");
        await using FaultProxy mirror = await FaultProxy.StartAsync(new Uri($"http://{_registry.Host}/"));
        int deadPort = FreePort.Get();
        string hosts = WriteHosts($"127.0.0.1:{deadPort}", $"""
            # origin is down; the mirror has everything
            server = "http://127.0.0.1:{deadPort}"

            [host."http://{mirror.Host}"]
              capabilities = ["pull", "resolve"]
              [host."http://{mirror.Host}".header]
                x-test = "from-hosts-toml"
            """);
        using var client = new RegistryClient(TestClients.Options(hostsDir: hosts));

        ResolvedImage resolved = await client.ResolveAsync(ImageReference.Parse($"127.0.0.1:{deadPort}/mirror/app:v1"));
        byte[] buffer = new byte[10];
        await client.ReadAsync(resolved.Reference.Blob(resolved.Layers[0].Digest), 5, buffer);

        Assert.Equal(image.ManifestDigest, resolved.Manifest.Descriptor.Digest);
        Assert.Equal(image.Layers[0].AsSpan(5, 10).ToArray(), buffer);
        Assert.NotEmpty(mirror.TestHeaders);
        Assert.All(mirror.TestHeaders, h => Assert.Equal("from-hosts-toml", h));
    }

    [Fact]
    public async Task Resolve_MirrorDown_FallsBackToOrigin()
    {
        TestImage image = await PushAsync("fallback/app");
        int deadPort = FreePort.Get();
        string hosts = WriteHosts(_registry.Host, $"""
            [host."http://127.0.0.1:{deadPort}"]
              capabilities = ["pull", "resolve"]
            """);
        RegistryClientOptions options = TestClients.Options(hostsDir: hosts);
        options.MaxRetries = 0;
        using var client = new RegistryClient(options);

        ResolvedImage resolved = await client.ResolveAsync(ImageReference.Parse($"{_registry.Host}/fallback/app:v1"));

        Assert.Equal(image.ManifestDigest, resolved.Manifest.Descriptor.Digest);
    }

    [Fact]
    public async Task Resolve_MirrorWithoutImage_FallsBackToOrigin()
    {
        TestImage image = await PushAsync("notonmirror/app");
        await using RegistryProcess emptyMirror = await RegistryProcess.StartAsync();
        string hosts = WriteHosts(_registry.Host, $"""
            [host."http://{emptyMirror.Host}"]
            """);
        using var client = new RegistryClient(TestClients.Options(hostsDir: hosts));

        ResolvedImage resolved = await client.ResolveAsync(ImageReference.Parse($"{_registry.Host}/notonmirror/app:v1"));

        Assert.Equal(image.ManifestDigest, resolved.Manifest.Descriptor.Digest);
    }
}
