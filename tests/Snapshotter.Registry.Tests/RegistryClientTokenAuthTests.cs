using Microsoft.Extensions.Logging;
using Snapshotter.Registry.Tests.Infrastructure;

namespace Snapshotter.Registry.Tests;

/// <summary>
/// A real docker-registry with <c>auth: token</c>, trusting the signing certificate of a token issuer started by
/// the test (ES256 JWTs with an x5c header).
/// </summary>
public sealed class RegistryClientTokenAuthTests : IAsyncLifetime
{
    private const string User = "bob";
    private const string Password = "token-user-password";
    private readonly TempDirectory _dir = new("token-auth");
    private TokenIssuer _issuer = null!;
    private RegistryProcess _registry = null!;

    public async Task InitializeAsync()
    {
        _issuer = await TokenIssuer.StartAsync();
        _issuer.Users[User] = Password;
        _issuer.RefreshTokens["refresh-token-value"] = User;
        _registry = await RegistryProcess.StartAsync(new RegistryProcessOptions { Token = _issuer.Settings });
    }

    public async Task DisposeAsync()
    {
        await _registry.DisposeAsync();
        await _issuer.DisposeAsync();
        _dir.Dispose();
    }

    private string UserConfig() => TestClients.WriteDockerConfig(_dir,
        $$$"""{"auths":{"{{{_registry.Host}}}":{"auth":"{{{TestClients.BasicAuth(User, Password)}}}"} } }""");

    private async Task<(ImageReference Repo, TestImage Image)> PushImageAsync(string name)
    {
        using var client = new RegistryClient(TestClients.Options(dockerConfig: UserConfig()));
        ImageReference repo = ImageReference.Parse($"{_registry.Host}/{name}");
        TestImage image = TestImage.Create(Platform.Default, name.Length, 10_000, 20_000);
        await image.PushAsync(client, repo, tag: "v1");
        return (repo, image);
    }

    [Fact]
    public async Task Push_WithBasicCredentials_GetsPushTokenAndSucceeds()
    {
        (ImageReference repo, TestImage image) = await PushImageAsync("token/push");

        Assert.Contains(_issuer.Requests, r => r.User == User && r.Scopes.Contains($"repository:token/push:pull,push", StringComparison.Ordinal));
        using var reader = new RegistryClient(TestClients.Options(dockerConfig: UserConfig()));
        Assert.Equal(image.ManifestDigest, (await reader.ResolveAsync(repo.WithTag("v1"))).Manifest.Descriptor.Digest);
    }

    [Fact]
    public async Task Logs_AtTraceLevelThroughAuthAndFailures_NeverHoldACredential()
    {
        (ImageReference repo, _) = await PushImageAsync("token/logs");
        using var provider = new CollectingLoggerProvider();
        using var factory = Microsoft.Extensions.Logging.LoggerFactory.Create(b => b.AddProvider(provider).SetMinimumLevel(Microsoft.Extensions.Logging.LogLevel.Trace));
        using (var client = new RegistryClient(TestClients.Options(dockerConfig: UserConfig()), factory.CreateLogger<RegistryClient>()))
        {
            ResolvedImage resolved = await client.ResolveAsync(repo.WithTag("v1"));
            await client.ReadAsync(repo.Blob(resolved.Layers[0].Digest), 0, new byte[100]);
            await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(repo.WithTag("absent")));
        }

        var wrong = TestClients.WriteDockerConfig(_dir, $$$"""{"auths":{"{{{_registry.Host}}}":{"auth":"{{{TestClients.BasicAuth(User, "wrong-" + Password)}}}"} } }""");
        using (var client = new RegistryClient(TestClients.Options(dockerConfig: wrong), factory.CreateLogger<RegistryClient>()))
        {
            await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(repo.WithTag("v1")));
        }

        Assert.NotEmpty(provider.Lines);
        var tokens = _issuer.IssuedTokens;
        Assert.NotEmpty(tokens);
        foreach (var line in provider.Lines)
        {
            Assert.DoesNotContain(Password, line, StringComparison.Ordinal);
            Assert.DoesNotContain(TestClients.BasicAuth(User, Password), line, StringComparison.Ordinal);
            Assert.DoesNotContain(TestClients.BasicAuth(User, "wrong-" + Password), line, StringComparison.Ordinal);
            foreach (var token in tokens)
            {
                Assert.DoesNotContain(token, line, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task Read_Anonymous_GetsPullTokenOnceAndReusesIt()
    {
        (ImageReference repo, TestImage image) = await PushImageAsync("token/anon");
        using var client = new RegistryClient(TestClients.Options());
        int before = _issuer.RequestCount;

        ResolvedImage resolved = await client.ResolveAsync(repo.WithTag("v1"));
        byte[] buffer = new byte[1000];
        for (int i = 0; i < 5; i++)
        {
            await client.ReadAsync(repo.Blob(resolved.Layers[1].Digest), i * 1000, buffer);
            Assert.Equal(image.Layers[1].AsSpan(i * 1000, 1000).ToArray(), buffer);
        }

        Assert.Equal(1, _issuer.RequestCount - before);
    }

    [Fact]
    public async Task Push_Anonymous_ThrowsUnauthorizedOrDenied()
    {
        using var client = new RegistryClient(TestClients.Options());
        BlobLocator blob = ImageReference.Parse($"{_registry.Host}/token/denied").Blob(OciDigest.Compute("x"u8));

        var ex = await Assert.ThrowsAsync<RegistryException>(() => client.PushBlobAsync(blob, new MemoryStream("x"u8.ToArray())));

        Assert.Contains(ex.Kind, new[] { RegistryErrorKind.Unauthorized, RegistryErrorKind.Denied });
    }

    [Fact]
    public async Task Read_CachedTokenAlreadyExpired_RetriesOnceWithFreshToken()
    {
        (ImageReference repo, TestImage image) = await PushImageAsync("token/expired");
        using var client = new RegistryClient(TestClients.Options());
        _issuer.IssueExpiredTokens(1);
        int before = _issuer.RequestCount;

        ResolvedImage resolved = await client.ResolveAsync(repo.WithTag("v1"));
        byte[] buffer = new byte[500];
        await client.ReadAsync(repo.Blob(resolved.Layers[0].Digest), 100, buffer);

        Assert.Equal(image.ManifestDigest, resolved.Manifest.Descriptor.Digest);
        Assert.Equal(image.Layers[0].AsSpan(100, 500).ToArray(), buffer);
        Assert.Equal(2, _issuer.RequestCount - before);
    }

    [Fact]
    public async Task Read_IdentityTokenInDockerConfig_UsesRefreshTokenGrant()
    {
        (ImageReference repo, TestImage image) = await PushImageAsync("token/identity");
        string config = TestClients.WriteDockerConfig(_dir, $$$"""{"auths":{"{{{_registry.Host}}}":{"identitytoken":"refresh-token-value"} } }""");
        using var client = new RegistryClient(TestClients.Options(dockerConfig: config));

        ResolvedImage resolved = await client.ResolveAsync(repo.WithTag("v1"));

        Assert.Equal(image.ManifestDigest, resolved.Manifest.Descriptor.Digest);
        Assert.Contains(_issuer.Requests, r => r.Method == "POST" && r.User == User && r.Scopes == "repository:token/identity:pull");
    }

    [Fact]
    public async Task Read_WrongPassword_ThrowsUnauthorizedWithoutLeakingIt()
    {
        const string wrong = "not-the-Password-123";
        string config = TestClients.WriteDockerConfig(_dir, $$$"""{"auths":{"{{{_registry.Host}}}":{"auth":"{{{TestClients.BasicAuth(User, wrong)}}}"} } }""");
        using var client = new RegistryClient(TestClients.Options(dockerConfig: config));

        var ex = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(ImageReference.Parse($"{_registry.Host}/token/any:v1")));

        Assert.Equal(RegistryErrorKind.Unauthorized, ex.Kind);
        Assert.DoesNotContain(wrong, ex.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(TestClients.BasicAuth(User, wrong), ex.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_ConcurrentReadersWithoutToken_ShareOneTokenFetch()
    {
        (ImageReference repo, TestImage image) = await PushImageAsync("token/concurrent");
        using var client = new RegistryClient(TestClients.Options());
        BlobLocator blob = repo.Blob(OciDigest.Compute(image.Layers[1]));
        await client.ReadAsync(blob, 0, new byte[1]);
        int before = _issuer.RequestCount;

        await Task.WhenAll(Enumerable.Range(0, 16).Select(async i =>
        {
            byte[] buffer = new byte[1000];
            await client.ReadAsync(blob, i * 1000, buffer);
            Assert.Equal(image.Layers[1].AsSpan(i * 1000, 1000).ToArray(), buffer);
        }));

        Assert.Equal(0, _issuer.RequestCount - before);
    }
}
