using System.Diagnostics;
using Snapshotter.Registry.Tests.Infrastructure;
using Snapshotter.Oci;

namespace Snapshotter.Registry.Tests;

/// <summary>A real docker-registry with <c>auth: htpasswd</c> (bcrypt file made by <c>htpasswd -B</c>); credentials from a docker config.json.</summary>
public sealed class RegistryClientBasicAuthTests : IAsyncLifetime
{
    private const string User = "alice";
    private const string Password = "s3cret-Pa55word";
    private readonly TempDirectory _dir = new("basic-auth");
    private RegistryProcess _registry = null!;

    public async Task InitializeAsync()
    {
        string htpasswd = _dir.Combine("htpasswd");
        using (Process process = Process.Start(new ProcessStartInfo("htpasswd", ["-Bbc", htpasswd, User, Password]) { RedirectStandardError = true, RedirectStandardOutput = true })!)
        {
            await process.WaitForExitAsync();
            Assert.Equal(0, process.ExitCode);
        }

        _registry = await RegistryProcess.StartAsync(new RegistryProcessOptions { HtpasswdPath = htpasswd });
    }

    public async Task DisposeAsync()
    {
        await _registry.DisposeAsync();
        _dir.Dispose();
    }

    private string Config(string user, string password) => TestClients.WriteDockerConfig(_dir,
        $$$"""{"auths":{"{{{_registry.Host}}}":{"auth":"{{{TestClients.BasicAuth(user, password)}}}"} } }""");

    [Fact]
    public async Task PushAndRead_CredentialsInDockerConfigAuth_Succeed()
    {
        using var client = new RegistryClient(TestClients.Options(dockerConfig: Config(User, Password)));
        ImageReference repo = ImageReference.Parse($"{_registry.Host}/basic/app");
        TestImage image = TestImage.Create(Platform.Default, 20, 4096);
        await image.PushAsync(client, repo, tag: "v1");

        ResolvedImage resolved = await client.ResolveAsync(repo.WithTag("v1"));
        byte[] buffer = new byte[100];
        await client.ReadAsync(repo.Blob(resolved.Layers[0].Digest), 50, buffer);

        Assert.Equal(image.ManifestDigest, resolved.Manifest.Descriptor.Digest);
        Assert.Equal(image.Layers[0].AsSpan(50, 100).ToArray(), buffer);
    }

    [Fact]
    public async Task Resolve_UsernamePasswordFields_Succeed()
    {
        string config = TestClients.WriteDockerConfig(_dir, $$$"""{"auths":{"http://{{{_registry.Host}}}":{"username":"{{{User}}}","password":"{{{Password}}}"} } }""");
        using var client = new RegistryClient(TestClients.Options(dockerConfig: config));
        ImageReference repo = ImageReference.Parse($"{_registry.Host}/basic/fields");
        TestImage image = TestImage.Create(Platform.Default, 21, 10);
        await image.PushAsync(client, repo, tag: "v1");

        ResolvedImage resolved = await client.ResolveAsync(repo.WithTag("v1"));

        Assert.Equal(image.ManifestDigest, resolved.Manifest.Descriptor.Digest);
    }

    [Fact]
    public async Task Resolve_NoCredentials_ThrowsUnauthorized()
    {
        using var client = new RegistryClient(TestClients.Options());

        var ex = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(ImageReference.Parse($"{_registry.Host}/basic/app:v1")));

        Assert.Equal(RegistryErrorKind.Unauthorized, ex.Kind);
        Assert.Equal(401, ex.StatusCode);
    }

    [Fact]
    public async Task Resolve_WrongPassword_ThrowsUnauthorizedWithoutLeakingIt()
    {
        const string wrong = "Wrong-Password-Value";
        using var client = new RegistryClient(TestClients.Options(dockerConfig: Config(User, wrong)));

        var ex = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(ImageReference.Parse($"{_registry.Host}/basic/app:v1")));

        Assert.Equal(RegistryErrorKind.Unauthorized, ex.Kind);
        Assert.DoesNotContain(wrong, ex.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(TestClients.BasicAuth(User, wrong), ex.ToString(), StringComparison.Ordinal);
    }
    [Fact]
    public async Task Resolve_CredentialHelperOnPath_UsesItsCredentials()
    {
        string bin = Directory.CreateDirectory(_dir.Combine("bin")).FullName;
        string script = CredentialHelperScript.Write(bin, "test", _registry.Host, User, Password);
        string config = TestClients.WriteDockerConfig(_dir, $$$"""{"auths":{},"credHelpers":{"{{{_registry.Host}}}":"test"} }""");
        string? path = Environment.GetEnvironmentVariable("PATH");
        Environment.SetEnvironmentVariable("PATH", bin + ":" + path);
        try
        {
            using var client = new RegistryClient(TestClients.Options(dockerConfig: config));
            ImageReference repo = ImageReference.Parse($"{_registry.Host}/helper/app");
            TestImage image = TestImage.Create(Platform.Default, 22, 10);
            await image.PushAsync(client, repo, tag: "v1");

            ResolvedImage resolved = await client.ResolveAsync(repo.WithTag("v1"));

            Assert.Equal(image.ManifestDigest, resolved.Manifest.Descriptor.Digest);
            Assert.Equal([_registry.Host], File.ReadAllLines(script + ".log").Distinct());
        }
        finally
        {
            Environment.SetEnvironmentVariable("PATH", path);
        }
    }
}
