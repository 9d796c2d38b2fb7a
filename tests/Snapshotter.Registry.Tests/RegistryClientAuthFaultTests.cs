using Snapshotter.Registry.Tests.Infrastructure;
using Snapshotter.Oci;

namespace Snapshotter.Registry.Tests;

/// <summary>
/// Faults that involve credentials, through a fault proxy in front of a real token-auth registry: redirects to
/// a second host (object storage) and tokens that stop being accepted mid-stream.
/// </summary>
public sealed class RegistryClientAuthFaultTests : IAsyncLifetime
{
    private readonly byte[] _blob = TestClients.RandomBytes(256 * 1024, 60);
    private TokenIssuer _issuer = null!;
    private RegistryProcess _registry = null!;
    private FaultProxy _proxy = null!;
    private BlobLocator _viaProxy = null!;

    public async Task InitializeAsync()
    {
        _issuer = await TokenIssuer.StartAsync();
        _issuer.Users["pusher"] = "push-password";
        _registry = await RegistryProcess.StartAsync(new RegistryProcessOptions { Token = _issuer.Settings });
        using var dir = new TempDirectory("auth-faults");
        string config = TestClients.WriteDockerConfig(dir, $"{{\"auths\":{{\"{_registry.Host}\":{{\"auth\":\"{TestClients.BasicAuth("pusher", "push-password")}\"}}}}}}");
        using (var pusher = new RegistryClient(TestClients.Options(dockerConfig: config)))
        {
            await pusher.PushBlobAsync(ImageReference.Parse($"{_registry.Host}/auth/faults").Blob(OciDigest.Compute(_blob)), new MemoryStream(_blob));
        }

        _proxy = await FaultProxy.StartAsync(new Uri($"http://{_registry.Host}/"));
        _viaProxy = ImageReference.Parse($"{_proxy.Host}/auth/faults").Blob(OciDigest.Compute(_blob));
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        await _registry.DisposeAsync();
        await _issuer.DisposeAsync();
    }

    // The registry answers an anonymous first try with 401; redirects come to authorized requests.
    private static bool AuthorizedBlobGet(Microsoft.AspNetCore.Http.HttpRequest request) =>
        request.Method == "GET" && request.Path.Value!.Contains("/blobs/", StringComparison.Ordinal) && request.Headers.ContainsKey("Authorization");

    private async Task AssertReadsCorrectlyAsync(RegistryClient client, int offset, int length)
    {
        byte[] buffer = new byte[length];
        await client.ReadAsync(_viaProxy, offset, buffer);
        Assert.True(_blob.AsSpan(offset, length).SequenceEqual(buffer), "wrong bytes returned");
    }

    [Fact]
    public async Task ReadAsync_RedirectToOtherHost_SendsNoAuthorizationThereAndCachesTarget()
    {
        await using BlobServer storage = await BlobServer.StartAsync(_blob);
        using var client = new RegistryClient(TestClients.Options());
        _proxy.Enqueue(new Fault(FaultKind.Redirect) { Location = storage.BlobUri, Matches = AuthorizedBlobGet });

        await AssertReadsCorrectlyAsync(client, 100, 1000);
        await AssertReadsCorrectlyAsync(client, 50_000, 20_000);

        Assert.Equal(2, storage.Requests.Count);
        Assert.All(storage.Requests, r => Assert.Null(r.Authorization));
        Assert.Equal(["bytes=100-1099", "bytes=50000-69999"], storage.Requests.Select(r => r.Range));
        var blobGets = _proxy.Seen.Where(s => s.Path.Contains("/blobs/", StringComparison.Ordinal)).ToList();
        Assert.Single(blobGets, s => s.Fault == FaultKind.Redirect);
        Assert.True(blobGets.Single(s => s.Fault == FaultKind.Redirect).HadAuthorization);
    }

    [Fact]
    public async Task ReadAsync_CachedRedirectTargetExpires_GoesBackToRegistry()
    {
        await using BlobServer storage = await BlobServer.StartAsync(_blob);
        using var client = new RegistryClient(TestClients.Options());
        _proxy.Enqueue(new Fault(FaultKind.Redirect) { Location = storage.BlobUri, Matches = AuthorizedBlobGet });
        await AssertReadsCorrectlyAsync(client, 0, 10);
        storage.Expired = true;

        await AssertReadsCorrectlyAsync(client, 200_000, 5000);

        Assert.Equal(2, storage.Requests.Count);
        Assert.Equal(2, _proxy.Count(s => s.Method == "GET" && s.Path.Contains("/blobs/", StringComparison.Ordinal) && s.HadAuthorization));
    }

    [Fact]
    public async Task ReadAsync_TokenRejectedMidStream_FetchesFreshTokenOnceAndContinues()
    {
        using var client = new RegistryClient(TestClients.Options());
        await AssertReadsCorrectlyAsync(client, 0, 4096);
        int tokensBefore = _issuer.RequestCount;

        // The proxy strips Authorization from the next blob GET: the registry answers 401 as for an expired token.
        _proxy.Enqueue(new Fault(FaultKind.DropAuthorization));
        await AssertReadsCorrectlyAsync(client, 4096, 100_000);
        await AssertReadsCorrectlyAsync(client, 104_096, 4096);

        Assert.Equal(1, _issuer.RequestCount - tokensBefore);
    }

    [Fact]
    public async Task ReadAsync_TokenRejectedTwice_ThrowsUnauthorizedWithoutLeakingToken()
    {
        using var client = new RegistryClient(TestClients.Options());
        await AssertReadsCorrectlyAsync(client, 0, 10);
        _proxy.Enqueue(new Fault(FaultKind.DropAuthorization), times: 2);

        var ex = await Assert.ThrowsAsync<RegistryException>(() => client.ReadAsync(_viaProxy, 0, new byte[10]));

        Assert.Equal(RegistryErrorKind.Unauthorized, ex.Kind);
        Assert.DoesNotContain("eyJ", ex.ToString(), StringComparison.Ordinal);
    }
    [Fact]
    public async Task ReadAsync_CachedRedirectTargetTruncates_RetriesThroughRegistryAndDropsTarget()
    {
        await using BlobServer storage = await BlobServer.StartAsync(_blob);
        using var client = new RegistryClient(TestClients.Options());
        _proxy.Enqueue(new Fault(FaultKind.Redirect) { Location = storage.BlobUri, Matches = AuthorizedBlobGet });
        await AssertReadsCorrectlyAsync(client, 0, 10);
        storage.Truncate = true;

        await AssertReadsCorrectlyAsync(client, 1000, 100_000);
        storage.Truncate = false;
        await AssertReadsCorrectlyAsync(client, 2000, 100);

        Assert.Equal(2, storage.Requests.Count);
        Assert.Equal(3, _proxy.Count(s => s.Method == "GET" && s.Path.Contains("/blobs/", StringComparison.Ordinal) && s.HadAuthorization));
    }
}
