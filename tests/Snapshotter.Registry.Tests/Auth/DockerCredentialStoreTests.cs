using Microsoft.Extensions.Logging.Abstractions;
using Snapshotter.Registry.Auth;
using Snapshotter.Registry.Tests.Infrastructure;

namespace Snapshotter.Registry.Tests.Auth;

public sealed class DockerCredentialStoreTests : IDisposable
{
    private readonly TempDirectory _dir = new("creds");

    public void Dispose() => _dir.Dispose();

    private DockerCredentialStore Store(string json) =>
        new(TestClients.WriteDockerConfig(_dir, json), [_dir.Path], NullLogger.Instance);

    [Fact]
    public async Task GetAsync_AuthField_DecodesUserAndPassword()
    {
        DockerCredentialStore store = Store("""{"auths":{"https://reg.example:5000/v1/":{"auth":"dXNlcjpwYTpzcw=="}}}""");

        RegistryCredential? credential = await store.GetAsync("reg.example:5000");

        Assert.NotNull(credential);
        Assert.Equal("user", credential.Username);
        Assert.Equal("pa:ss", credential.Password);
        Assert.DoesNotContain("pa:ss", credential.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetAsync_DockerHubKey_MatchesApiHost()
    {
        DockerCredentialStore store = Store("""{"auths":{"https://index.docker.io/v1/":{"username":"hub","password":"pw"}}}""");

        RegistryCredential? credential = await store.GetAsync("registry-1.docker.io");

        Assert.Equal("hub", credential?.Username);
    }

    [Fact]
    public async Task GetAsync_IdentityToken_ReturnsRefreshToken()
    {
        DockerCredentialStore store = Store("""{"auths":{"ghcr.example":{"identitytoken":"refresh"}}}""");

        RegistryCredential? credential = await store.GetAsync("ghcr.example");

        Assert.Equal("refresh", credential?.IdentityToken);
        Assert.False(credential!.HasPassword);
    }

    [Fact]
    public async Task GetAsync_UnknownHost_ReturnsNull()
    {
        DockerCredentialStore store = Store("""{"auths":{"a.example":{"auth":"dTpw"}}}""");

        Assert.Null(await store.GetAsync("b.example"));
    }

    [Fact]
    public async Task GetAsync_CredsStoreHelper_ReturnsHelperSecretAndFallsBackToAuths()
    {
        CredentialHelperScript.Write(_dir.Path, "store", "c.example", "helper-user", "helper-secret");
        DockerCredentialStore store = Store("""{"credsStore":"store","auths":{"d.example":{"auth":"dTpw"}}}""");

        RegistryCredential? fromHelper = await store.GetAsync("c.example");
        RegistryCredential? fromAuths = await store.GetAsync("d.example");

        Assert.Equal(("helper-user", "helper-secret"), (fromHelper?.Username, fromHelper?.Password));
        Assert.Equal(("u", "p"), (fromAuths?.Username, fromAuths?.Password));
    }

    [Fact]
    public async Task GetAsync_HelperReturnsTokenUser_ReturnsIdentityToken()
    {
        CredentialHelperScript.Write(_dir.Path, "tok", "e.example", "<token>", "identity-from-helper");
        DockerCredentialStore store = Store("""{"credHelpers":{"e.example":"tok"}}""");

        RegistryCredential? credential = await store.GetAsync("e.example");

        Assert.Equal("identity-from-helper", credential?.IdentityToken);
        Assert.Null(credential?.Username);
    }

    [Fact]
    public async Task GetAsync_MissingHelperOrConfig_ReturnsNull()
    {
        DockerCredentialStore withMissingHelper = Store("""{"credHelpers":{"f.example":"does-not-exist"}}""");
        var withoutConfig = new DockerCredentialStore(_dir.Combine("absent.json"), [], NullLogger.Instance);

        Assert.Null(await withMissingHelper.GetAsync("f.example"));
        Assert.Null(await withoutConfig.GetAsync("f.example"));
    }
}
