using Snapshotter.Oci;
using Snapshotter.Registry.Tests.Infrastructure;

namespace Snapshotter.Registry.Tests;

/// <summary>Range reads with progress: the head of the range is reported, right, before the read ends.</summary>
public sealed class RegistryClientProgressTests : IClassFixture<AnonymousRegistryFixture>, IAsyncLifetime
{
    private readonly RegistryProcess _registry;
    private readonly byte[] _blob = TestClients.RandomBytes(2 * 1024 * 1024 + 11, 61);
    private FaultProxy _proxy = null!;
    private BlobLocator _viaProxy = null!;

    public RegistryClientProgressTests(AnonymousRegistryFixture fixture)
    {
        _registry = fixture.Registry;
    }

    public async Task InitializeAsync()
    {
        using (var direct = new RegistryClient(TestClients.Options()))
        {
            await direct.PushBlobAsync(ImageReference.Parse($"{_registry.Host}/progress/app").Blob(OciDigest.Compute(_blob)), new MemoryStream(_blob));
        }

        _proxy = await FaultProxy.StartAsync(new Uri($"http://{_registry.Host}/"));
        _viaProxy = ImageReference.Parse($"{_proxy.Host}/progress/app").Blob(OciDigest.Compute(_blob));
    }

    public async Task DisposeAsync() => await _proxy.DisposeAsync();

    [Fact]
    public async Task ReadAsync_WithProgress_ReportsRightHeadsBeforeTheEnd()
    {
        using var client = new RegistryClient(TestClients.Options());
        const int offset = 4099;
        byte[] buffer = new byte[_blob.Length - offset - 5];
        var reports = new List<int>();
        var wrongHeads = 0;

        await client.ReadAsync(_viaProxy, offset, buffer, n =>
        {
            reports.Add(n);
            wrongHeads += _blob.AsSpan(offset, n).SequenceEqual(buffer.AsSpan(0, n)) ? 0 : 1;
        });

        // 2 MiB arrive in several reads: reported as they come, increasing, never the whole length.
        Assert.True(reports.Count > 1, $"{reports.Count} progress report(s)");
        Assert.Equal(reports.Order(), reports);
        Assert.All(reports, n => Assert.InRange(n, 1, buffer.Length - 1));
        Assert.Equal(0, wrongHeads);
        Assert.True(_blob.AsSpan(offset, buffer.Length).SequenceEqual(buffer));
    }

    [Fact]
    public async Task ReadAsync_WithProgressTruncatedOnce_RetriesReportsOnlyRightHeadsAndReturnsExactBytes()
    {
        RegistryClientOptions options = TestClients.Options();
        options.MaxRetries = 3;
        using var client = new RegistryClient(options);
        _proxy.Enqueue(new Fault(FaultKind.TruncateBody), times: 1);
        byte[] buffer = new byte[1024 * 1024];
        var wrongHeads = 0;
        var reports = 0;

        await client.ReadAsync(_viaProxy, 0, buffer, n =>
        {
            reports++;
            wrongHeads += _blob.AsSpan(0, n).SequenceEqual(buffer.AsSpan(0, n)) ? 0 : 1;
            Assert.InRange(n, 1, buffer.Length - 1);
        });

        Assert.True(reports > 0);
        Assert.Equal(0, wrongHeads);
        Assert.True(_blob.AsSpan(0, buffer.Length).SequenceEqual(buffer));
        Assert.Equal(2, _proxy.Count(s => s.Method == "GET" && s.Path.Contains("/blobs/", StringComparison.Ordinal)));
    }
}
