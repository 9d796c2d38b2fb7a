using Snapshotter.Registry.Tests.Infrastructure;
using Snapshotter.Oci;

namespace Snapshotter.Registry.Tests;

/// <summary>A real docker-registry serving TLS with a certificate from a test CA; trust configured through hosts.toml.</summary>
public sealed class RegistryClientTlsTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("tls");
    private RegistryProcess _registry = null!;
    private string _caPath = null!;

    public async Task InitializeAsync()
    {
        (_caPath, string cert, string key) = TestCertificates.CreateServerPki(_dir.Path);
        _registry = await RegistryProcess.StartAsync(new RegistryProcessOptions { TlsCertificatePath = cert, TlsKeyPath = key, AccessLog = true });
    }

    public async Task DisposeAsync()
    {
        await _registry.DisposeAsync();
        _dir.Dispose();
    }

    private string HostsDir(string name, string toml)
    {
        string dir = Directory.CreateDirectory(_dir.Combine(name, _registry.Host)).FullName;
        File.WriteAllText(Path.Combine(dir, "hosts.toml"), toml);
        return _dir.Combine(name);
    }

    [Fact]
    public async Task PushAndResolve_CaFromHostsToml_Succeed()
    {
        string hosts = HostsDir("with-ca", $"server = \"https://{_registry.Host}\"\nca = \"{_caPath}\"\n");
        using var client = new RegistryClient(TestClients.Options(hostsDir: hosts));
        ImageReference repo = ImageReference.Parse($"{_registry.Host}/tls/app");
        TestImage image = TestImage.Create(Platform.Default, 30, 50_000);
        await image.PushAsync(client, repo, tag: "v1");

        ResolvedImage resolved = await client.ResolveAsync(repo.WithTag("v1"));
        byte[] buffer = new byte[1000];
        await client.ReadAsync(repo.Blob(resolved.Layers[0].Digest), 40_000, buffer);

        Assert.Equal(image.ManifestDigest, resolved.Manifest.Descriptor.Digest);
        Assert.Equal(image.Layers[0].AsSpan(40_000, 1000).ToArray(), buffer);
        Assert.Contains($"\"GET /v2/tls/app/blobs/{resolved.Layers[0].Digest} HTTP/2.0\"", _registry.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resolve_HttpsWithoutTrustedCa_FailsFastWithTlsError()
    {
        string hosts = HostsDir("no-ca", $"server = \"https://{_registry.Host}\"\n");
        using var client = new RegistryClient(TestClients.Options(hostsDir: hosts));
        var watch = System.Diagnostics.Stopwatch.StartNew();

        var ex = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(ImageReference.Parse($"{_registry.Host}/tls/app:v1")));

        Assert.Equal(RegistryErrorKind.Unavailable, ex.Kind);
        Assert.Contains("TLS", ex.Message, StringComparison.Ordinal);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task Resolve_SkipVerifyMirrorEntry_Succeeds()
    {
        using (var pusher = new RegistryClient(TestClients.Options(hostsDir: HostsDir("push", $"server = \"https://{_registry.Host}\"\nca = \"{_caPath}\"\n"))))
        {
            await TestImage.Create(Platform.Default, 31, 100).PushAsync(pusher, ImageReference.Parse($"{_registry.Host}/tls/skip"), tag: "v1");
        }

        int deadPort = FreePort.Get();
        string hosts = _dir.Combine("skip");
        Directory.CreateDirectory(Path.Combine(hosts, $"127.0.0.1:{deadPort}"));
        File.WriteAllText(Path.Combine(hosts, $"127.0.0.1:{deadPort}", "hosts.toml"), $"""
            server = "http://127.0.0.1:{deadPort}"

            [host."https://{_registry.Host}"]
              capabilities = ["pull", "resolve"]
              skip_verify = true
            """);
        using var client = new RegistryClient(TestClients.Options(hostsDir: hosts));

        ResolvedImage resolved = await client.ResolveAsync(ImageReference.Parse($"127.0.0.1:{deadPort}/tls/skip:v1"));

        Assert.Single(resolved.Layers);
    }
}
