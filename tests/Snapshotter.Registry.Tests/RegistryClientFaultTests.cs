using System.Diagnostics;
using Snapshotter.Registry.Tests.Infrastructure;
using Snapshotter.Oci;

namespace Snapshotter.Registry.Tests;

/// <summary>
/// Faults injected by a loopback proxy in front of a real registry. Every read either returns exactly the right
/// bytes or fails with a clear <see cref="RegistryException"/> within the configured time.
/// </summary>
public sealed class RegistryClientFaultTests : IClassFixture<AnonymousRegistryFixture>, IAsyncLifetime
{
    private readonly RegistryProcess _registry;
    private readonly byte[] _blob = TestClients.RandomBytes(512 * 1024 + 7, 50);
    private FaultProxy _proxy = null!;
    private BlobLocator _viaProxy = null!;

    public RegistryClientFaultTests(AnonymousRegistryFixture fixture)
    {
        _registry = fixture.Registry;
    }

    public async Task InitializeAsync()
    {
        using (var direct = new RegistryClient(TestClients.Options()))
        {
            await direct.PushBlobAsync(ImageReference.Parse($"{_registry.Host}/faults/app").Blob(OciDigest.Compute(_blob)), new MemoryStream(_blob));
        }

        _proxy = await FaultProxy.StartAsync(new Uri($"http://{_registry.Host}/"));
        _viaProxy = ImageReference.Parse($"{_proxy.Host}/faults/app").Blob(OciDigest.Compute(_blob));
    }

    public async Task DisposeAsync() => await _proxy.DisposeAsync();

    private static RegistryClientOptions FastOptions(int retries = 4)
    {
        RegistryClientOptions options = TestClients.Options();
        options.MaxRetries = retries;
        options.AttemptTimeout = TimeSpan.FromSeconds(2);
        options.OverallTimeout = TimeSpan.FromSeconds(8);
        return options;
    }

    private int BlobGets => _proxy.Count(s => s.Method == "GET" && s.Path.Contains("/blobs/", StringComparison.Ordinal));

    private async Task AssertReadsCorrectlyAsync(RegistryClient client, int offset, int length)
    {
        byte[] buffer = new byte[length];
        await client.ReadAsync(_viaProxy, offset, buffer);
        Assert.True(_blob.AsSpan(offset, length).SequenceEqual(buffer), "wrong bytes returned");
    }

    [Theory]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(503)]
    public async Task ReadAsync_TransientStatusTwice_RetriesAndReturnsExactBytes(int status)
    {
        using var client = new RegistryClient(FastOptions());
        _proxy.Enqueue(new Fault(FaultKind.Status) { Status = status }, times: 2);

        await AssertReadsCorrectlyAsync(client, 1000, 100_000);

        Assert.Equal(3, BlobGets);
    }

    [Fact]
    public async Task ReadAsync_PersistentServerError_ThrowsUnavailableAfterBoundedRetries()
    {
        using var client = new RegistryClient(FastOptions(retries: 2));
        _proxy.Enqueue(new Fault(FaultKind.Status) { Status = 503 }, times: 10);

        var ex = await Assert.ThrowsAsync<RegistryException>(() => client.ReadAsync(_viaProxy, 0, new byte[10]));

        Assert.Equal(RegistryErrorKind.Unavailable, ex.Kind);
        Assert.Equal(503, ex.StatusCode);
        Assert.Equal(3, BlobGets);
    }

    [Fact]
    public async Task ReadAsync_TooManyRequestsWithRetryAfter_WaitsThenSucceeds()
    {
        using var client = new RegistryClient(FastOptions());
        _proxy.Enqueue(new Fault(FaultKind.Status) { Status = 429, RetryAfter = "1" });
        var watch = Stopwatch.StartNew();

        await AssertReadsCorrectlyAsync(client, 5, 5000);

        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(950), $"retried after {watch.Elapsed}, before Retry-After");
    }

    [Fact]
    public async Task ReadAsync_RetryAfterBeyondMaxDelay_ThrowsTooManyRequestsAtOnce()
    {
        using var client = new RegistryClient(FastOptions());
        _proxy.Enqueue(new Fault(FaultKind.Status) { Status = 429, RetryAfter = "120" });
        var watch = Stopwatch.StartNew();

        var ex = await Assert.ThrowsAsync<RegistryException>(() => client.ReadAsync(_viaProxy, 0, new byte[10]));

        Assert.Equal(RegistryErrorKind.TooManyRequests, ex.Kind);
        Assert.Equal(TimeSpan.FromSeconds(120), ex.RetryAfter);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task ReadAsync_ConnectionReset_RetriesAndReturnsExactBytes()
    {
        using var client = new RegistryClient(FastOptions());
        _proxy.Enqueue(new Fault(FaultKind.Reset), times: 2);

        await AssertReadsCorrectlyAsync(client, 77, 200_000);

        Assert.Equal(3, BlobGets);
    }

    [Fact]
    public async Task ReadAsync_TruncatedBody_RetriesAndReturnsExactBytes()
    {
        using var client = new RegistryClient(FastOptions());
        _proxy.Enqueue(new Fault(FaultKind.TruncateBody), times: 2);

        await AssertReadsCorrectlyAsync(client, 4096, 300_000);

        Assert.Equal(3, BlobGets);
    }

    [Fact]
    public async Task ReadAsync_StalledBody_ThrowsTimeoutWithinConfiguredTime()
    {
        RegistryClientOptions options = FastOptions(retries: 1);
        options.AttemptTimeout = TimeSpan.FromMilliseconds(500);
        using var client = new RegistryClient(options);
        _proxy.Enqueue(new Fault(FaultKind.StallBody), times: 5);
        var watch = Stopwatch.StartNew();

        var ex = await Assert.ThrowsAsync<RegistryException>(() => client.ReadAsync(_viaProxy, 0, new byte[100_000]));

        Assert.Equal(RegistryErrorKind.Timeout, ex.Kind);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"took {watch.Elapsed}");
        Assert.Equal(2, BlobGets);
    }

    [Fact]
    public async Task ReadAsync_StalledBodyThenHealthy_RetriesAndReturnsExactBytes()
    {
        RegistryClientOptions options = FastOptions();
        options.AttemptTimeout = TimeSpan.FromMilliseconds(500);
        using var client = new RegistryClient(options);
        _proxy.Enqueue(new Fault(FaultKind.StallBody));

        await AssertReadsCorrectlyAsync(client, 10, 100_000);
    }

    [Fact]
    public async Task ReadAsync_OverallTimeoutShorterThanRetries_ThrowsTimeoutInTime()
    {
        RegistryClientOptions options = FastOptions(retries: 100);
        options.AttemptTimeout = TimeSpan.FromMilliseconds(300);
        options.OverallTimeout = TimeSpan.FromSeconds(1);
        using var client = new RegistryClient(options);
        _proxy.Enqueue(new Fault(FaultKind.StallBody), times: 100);
        var watch = Stopwatch.StartNew();

        var ex = await Assert.ThrowsAsync<RegistryException>(() => client.ReadAsync(_viaProxy, 0, new byte[100]));

        Assert.Equal(RegistryErrorKind.Timeout, ex.Kind);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task ReadAsync_StalledBodyCallerCancels_ThrowsOperationCanceledPromptly()
    {
        RegistryClientOptions options = FastOptions();
        options.AttemptTimeout = TimeSpan.FromSeconds(30);
        options.OverallTimeout = TimeSpan.FromSeconds(60);
        using var client = new RegistryClient(options);
        _proxy.Enqueue(new Fault(FaultKind.StallBody));
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var watch = Stopwatch.StartNew();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.ReadAsync(_viaProxy, 0, new byte[100_000], cts.Token));

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task ReadAsync_ServerIgnoresRange_SkipsToOffsetAndReturnsExactBytes()
    {
        using var client = new RegistryClient(FastOptions());
        _proxy.Enqueue(new Fault(FaultKind.IgnoreRange));

        await AssertReadsCorrectlyAsync(client, 300_000, 1234);
    }

    [Fact]
    public async Task ReadAsync_MultipartAnswer_ReturnsExactBytes()
    {
        using var client = new RegistryClient(FastOptions());
        _proxy.Enqueue(new Fault(FaultKind.Multipart));

        await AssertReadsCorrectlyAsync(client, 12345, 54321);
    }

    [Fact]
    public async Task ReadAsync_WrongContentRange_ThrowsInvalidResponseNotWrongBytes()
    {
        using var client = new RegistryClient(FastOptions());
        _proxy.Enqueue(new Fault(FaultKind.WrongContentRange), times: 10);

        var ex = await Assert.ThrowsAsync<RegistryException>(() => client.ReadAsync(_viaProxy, 100, new byte[1000]));

        Assert.Equal(RegistryErrorKind.InvalidResponse, ex.Kind);
        Assert.Contains("101-1100", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenBlobAsync_CorruptedBody_ThrowsDigestMismatch()
    {
        using var client = new RegistryClient(FastOptions());
        _proxy.Enqueue(new Fault(FaultKind.CorruptBody));

        await using Stream stream = await client.OpenBlobAsync(_viaProxy);
        var ex = await Assert.ThrowsAsync<RegistryException>(() => stream.CopyToAsync(Stream.Null));

        Assert.Equal(RegistryErrorKind.DigestMismatch, ex.Kind);
    }

    [Fact]
    public async Task ResolveAsync_CorruptedManifest_ThrowsDigestMismatch()
    {
        using (var direct = new RegistryClient(TestClients.Options()))
        {
            await TestImage.Create(Platform.Default, 51, 10).PushAsync(direct, ImageReference.Parse($"{_registry.Host}/faults/manifest"), tag: "v1");
        }

        using var client = new RegistryClient(FastOptions());
        _proxy.Enqueue(new Fault(FaultKind.CorruptBody) { Matches = r => r.Path.Value!.Contains("/manifests/", StringComparison.Ordinal) });

        var ex = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(ImageReference.Parse($"{_proxy.Host}/faults/manifest:v1")));

        Assert.Equal(RegistryErrorKind.DigestMismatch, ex.Kind);
    }

    [Fact]
    public async Task PushBlobAsync_LargerThanChunk_SendsPatchChunksThenPut()
    {
        RegistryClientOptions options = FastOptions();
        options.UploadChunkSize = 100_000;
        using var client = new RegistryClient(options);
        byte[] blob = TestClients.RandomBytes(250_000, 52);

        await client.PushBlobAsync(ImageReference.Parse($"{_proxy.Host}/faults/chunked").Blob(OciDigest.Compute(blob)), new MemoryStream(blob));

        Assert.Equal(3, _proxy.Count(s => s.Method == "PATCH"));
        Assert.Equal(1, _proxy.Count(s => s.Method == "PUT" && s.Path.Contains("digest=sha256", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task ReadAsync_RandomFaultMix_NeverReturnsWrongBytesNorHangs()
    {
        RegistryClientOptions options = FastOptions(retries: 3);
        options.AttemptTimeout = TimeSpan.FromMilliseconds(400);
        options.OverallTimeout = TimeSpan.FromSeconds(3);
        using var client = new RegistryClient(options);
        var random = new Random(53);
        FaultKind[] kinds = [FaultKind.Status, FaultKind.Reset, FaultKind.TruncateBody, FaultKind.StallBody, FaultKind.IgnoreRange, FaultKind.Multipart, FaultKind.WrongContentRange];
        int succeeded = 0;
        var total = Stopwatch.StartNew();
        for (int i = 0; i < 30; i++)
        {
            for (int f = random.Next(3); f > 0; f--)
            {
                _proxy.Enqueue(new Fault(kinds[random.Next(kinds.Length)]) { Status = random.Next(2) == 0 ? 503 : 500 });
            }

            int offset = random.Next(_blob.Length - 1);
            int length = 1 + random.Next(Math.Min(_blob.Length - offset, 64 * 1024));
            byte[] buffer = new byte[length];
            var watch = Stopwatch.StartNew();
            try
            {
                await client.ReadAsync(_viaProxy, offset, buffer);
                Assert.True(_blob.AsSpan(offset, length).SequenceEqual(buffer), $"read {i} returned wrong bytes");
                succeeded++;
            }
            catch (RegistryException ex)
            {
                Assert.False(string.IsNullOrWhiteSpace(ex.Message));
            }

            Assert.True(watch.Elapsed < options.OverallTimeout + TimeSpan.FromSeconds(1), $"read {i} took {watch.Elapsed}");
            while (_proxy.PendingFaults > 0)
            {
                await client.ReadAsync(_viaProxy, 0, new byte[1]).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }

        Assert.True(succeeded >= 20, $"only {succeeded} of 30 reads succeeded");
        Assert.True(total.Elapsed < TimeSpan.FromSeconds(60));
    }
    [Theory]
    [InlineData(FaultKind.TruncateBody)]
    [InlineData(FaultKind.StallBody)]
    [InlineData(FaultKind.Reset)]
    public async Task OpenBlobAsync_BodyBreaksMidway_ResumesFromPositionWithExactBytes(FaultKind kind)
    {
        RegistryClientOptions options = FastOptions();
        options.AttemptTimeout = TimeSpan.FromMilliseconds(700);
        using var client = new RegistryClient(options);
        _proxy.Enqueue(new Fault(kind));

        await using Stream stream = await client.OpenBlobAsync(_viaProxy, _blob.Length);
        var copy = new MemoryStream();
        await stream.CopyToAsync(copy);

        Assert.Equal(_blob, copy.ToArray());
        Assert.Equal(2, BlobGets);
    }

    [Fact]
    public async Task OpenBlobAsync_BodyKeepsBreaking_ThrowsAfterBoundedResumes()
    {
        using var client = new RegistryClient(FastOptions(retries: 2));
        _proxy.Enqueue(new Fault(FaultKind.TruncateBody), times: 10);

        await using Stream stream = await client.OpenBlobAsync(_viaProxy, _blob.Length);
        var ex = await Assert.ThrowsAsync<RegistryException>(() => stream.CopyToAsync(Stream.Null));

        Assert.Equal(RegistryErrorKind.Unavailable, ex.Kind);
        Assert.Equal(3, BlobGets);
    }
}
