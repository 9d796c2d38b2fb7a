using Snapshotter.Registry.Tests.Infrastructure;
using Snapshotter.Oci;

namespace Snapshotter.Registry.Tests;

/// <summary>
/// A real docker-registry with <c>http.tls.clientcas</c>: it refuses TLS clients without a certificate signed by its
/// client CA. The certificate comes from hosts.toml <c>client</c>, in each of containerd's forms.
/// </summary>
public sealed class RegistryClientClientCertificateTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("client-cert");
    private RegistryProcess _registry = null!;
    private string _serverCa = null!;

    public async Task InitializeAsync()
    {
        (_serverCa, string cert, string key) = TestCertificates.CreateServerPki(_dir.Path);
        (string clientCa, _, _, _) = TestCertificates.CreateClientPki(_dir.Path);
        _registry = await RegistryProcess.StartAsync(new RegistryProcessOptions { TlsCertificatePath = cert, TlsKeyPath = key, TlsClientCaPath = clientCa });
    }

    public async Task DisposeAsync()
    {
        await _registry.DisposeAsync();
        _dir.Dispose();
    }

    /// <summary>A hosts directory whose hosts.toml trusts the server CA and adds <paramref name="clientLine"/>; the PKI files are two levels up.</summary>
    private RegistryClient Client(string name, string clientLine)
    {
        string dir = Directory.CreateDirectory(_dir.Combine(name, _registry.Host)).FullName;
        File.WriteAllText(Path.Combine(dir, "hosts.toml"), $"server = \"https://{_registry.Host}\"\nca = \"{_serverCa}\"\n{clientLine}\n");
        RegistryClientOptions options = TestClients.Options(hostsDir: _dir.Combine(name));
        options.MaxRetries = 0;
        return new RegistryClient(options);
    }

    [Fact]
    public async Task Resolve_WithoutClientCertificate_FailsAndWithOneSucceeds()
    {
        ImageReference repo = ImageReference.Parse($"{_registry.Host}/mtls/app");
        TestImage image = TestImage.Create(Platform.Default, 40, 20_000);
        using (RegistryClient pusher = Client("push", "client = [[\"../../client.pem\", \"../../client.key\"]]"))
        {
            await image.PushAsync(pusher, repo, tag: "v1");
        }

        using RegistryClient without = Client("without", "");
        var ex = await Assert.ThrowsAsync<RegistryException>(() => without.ResolveAsync(repo.WithTag("v1")));
        using RegistryClient with = Client("with", "client = [[\"../../client.pem\", \"../../client.key\"]]");
        ResolvedImage resolved = await with.ResolveAsync(repo.WithTag("v1"));

        Assert.Equal(RegistryErrorKind.Unavailable, ex.Kind);
        Assert.Contains(_registry.Host, ex.Message, StringComparison.Ordinal);
        Assert.Equal(image.ManifestDigest, resolved.Manifest.Descriptor.Digest);
    }

    [Theory]
    [InlineData("client = \"../../client-with-key.pem\"")]
    [InlineData("client = [\"../../client-with-key.pem\"]")]
    [InlineData("client = [[\"../../client.pem\", \"../../client.key\"]]")]
    [InlineData("client = [[\"../../client-with-key.pem\", \"\"]]")]
    public async Task PushAndRead_EachClientForm_Succeed(string clientLine)
    {
        using RegistryClient client = Client("form", clientLine);
        ImageReference repo = ImageReference.Parse($"{_registry.Host}/mtls/form");
        TestImage image = TestImage.Create(Platform.Default, 41, 30_000);
        await image.PushAsync(client, repo, tag: "v1");

        ResolvedImage resolved = await client.ResolveAsync(repo.WithTag("v1"));
        byte[] buffer = new byte[500];
        await client.ReadAsync(repo.Blob(resolved.Layers[0].Digest), 20_000, buffer);

        Assert.Equal(image.ManifestDigest, resolved.Manifest.Descriptor.Digest);
        Assert.Equal(image.Layers[0].AsSpan(20_000, 500).ToArray(), buffer);
    }

    [Fact]
    public async Task Resolve_ClientKeyMissing_ThrowsNamingTheFile()
    {
        using RegistryClient client = Client("missing", "client = [[\"../../client.pem\", \"../../nope.key\"]]");

        var ex = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(ImageReference.Parse($"{_registry.Host}/mtls/app:v1")));

        Assert.Equal(RegistryErrorKind.InvalidReference, ex.Kind);
        Assert.Contains("nope.key", ex.Message, StringComparison.Ordinal);
    }
}
