using Microsoft.Extensions.Logging.Abstractions;
using Snapshotter.Oci;
using Snapshotter.Telemetry;
using Snapshotter.Lazy.Blobs;
using Snapshotter.Lazy.Images;
using Snapshotter.Lazy.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Snapshotter.Lazy.Tests.Blobs;

/// <summary>Whole-blob downloads from the real registry, counted on the registry's side.</summary>
[Collection(RegistryImageCollection.Name)]
public sealed class CompleteBlobFileTests(RegistryImageFixture fixture, ITestOutputHelper output)
{
    private sealed record Setup(LazyHarness Harness, BlobFileCache Cache, LazyImageResolver Resolver, LazyImage Image, LazyBlob Blob, SnapshotterMetrics Metrics) : IAsyncDisposable
    {
        public CompleteBlobFile NewFile() => new(Blob, Cache, Harness.Client, Metrics, NullLogger.Instance);

        public async ValueTask DisposeAsync()
        {
            await Resolver.ReleaseAsync(Image);
            Metrics.Dispose();
            await Harness.DisposeAsync();
        }
    }

    private async Task<Setup> StartAsync()
    {
        var harness = await LazyHarness.StartAsync(output);
        var image = await harness.ResolveAsync(fixture.Reference);
        var resolver = new LazyImageResolver(new LazyBlobRegistry(), harness.Client);
        var lazy = resolver.Open(image);
        var cache = new BlobFileCache(Path.Combine(harness.Root, "file-cache"));
        return new Setup(harness, cache, resolver, lazy, lazy.Blobs[0], new SnapshotterMetrics());
    }

    [Fact]
    public async Task EnsureAsync_ConcurrentCallers_OneDownloadWithTheUncompressedBytes()
    {
        await using var setup = await StartAsync();
        var file = setup.NewFile();
        var before = await fixture.SettledBlobGetsAsync(setup.Blob.Digest, 200);

        var paths = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => file.EnsureAsync())));

        Assert.Single(paths.Distinct());
        Assert.Equal(setup.Cache.CompletePath(setup.Blob), paths[0]);
        Assert.Equal(before + 1, await fixture.SettledBlobGetsAsync(setup.Blob.Digest, 200));
        Assert.Equal(setup.Blob.DeviceSize, new FileInfo(paths[0]).Length);
        Assert.Empty(Directory.EnumerateFiles(setup.Cache.Directory, "*" + BlobFileCache.PartialSuffix));

        // Every chunk sits at its uncompressed offset with the bytes its digest names (sha256: the converter's default).
        var table = await setup.Blob.GetChunkTableAsync();
        Assert.True(table.Count >= 24, $"{table.Count} chunks");
        Assert.Equal(ChunkDigester.Sha256, table.DigestAlgorithm);
        using (var handle = File.OpenHandle(paths[0]))
        {
            var buffer = new byte[table.Count == 0 ? 0 : Enumerable.Range(0, table.Count).Max(i => table[i].UncompressedSize)];
            for (var i = 0; i < table.Count; i++)
            {
                var chunk = table[i];
                Assert.Equal(chunk.UncompressedSize, RandomAccess.Read(handle, buffer.AsSpan(0, chunk.UncompressedSize), chunk.UncompressedOffset));
                Assert.True(
                    System.Security.Cryptography.SHA256.HashData(buffer.AsSpan(0, chunk.UncompressedSize)).AsSpan().SequenceEqual(table.GetDigest(i)),
                    $"chunk {i} at {chunk.UncompressedOffset}");
            }
        }

        Assert.Equal(1, setup.Metrics.RegistryRequestCount);
        Assert.Equal(table.Count, setup.Metrics.ChunkMissCount);
    }

    [Fact]
    public async Task EnsureAsync_WaiterCancelled_DownloadFinishesForTheOthers()
    {
        await using var setup = await StartAsync();
        var file = setup.NewFile();
        using var cts = new CancellationTokenSource();

        var cancelled = file.EnsureAsync(cts.Token);
        var patient = file.EnsureAsync();
        cts.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        var path = await patient;
        Assert.True(setup.Cache.IsComplete(setup.Blob));
        Assert.Equal(path, await file.EnsureAsync());
    }

    [Fact]
    public async Task EnsureAsync_CompleteFileAlreadyThere_NoRequest()
    {
        await using var setup = await StartAsync();
        await setup.NewFile().EnsureAsync();
        var before = await fixture.SettledBlobGetsAsync(setup.Blob.Digest, 200);
        var ranges = await fixture.SettledBlobGetsAsync(setup.Blob.Digest, 206);

        // A new instance (another blob-fetch state, or the next run) trusts the renamed complete file.
        var path = await setup.NewFile().EnsureAsync();

        Assert.Equal(setup.Cache.CompletePath(setup.Blob), path);
        Assert.Equal(before, await fixture.SettledBlobGetsAsync(setup.Blob.Digest, 200));
        Assert.Equal(ranges, await fixture.SettledBlobGetsAsync(setup.Blob.Digest, 206));
    }

    [Fact]
    public async Task EnsureAsync_FileOfTheWrongSize_DownloadedAgain()
    {
        await using var setup = await StartAsync();
        var path = setup.Cache.CompletePath(setup.Blob);
        await File.WriteAllTextAsync(path, "not the blob");
        var before = await fixture.SettledBlobGetsAsync(setup.Blob.Digest, 200);

        await setup.NewFile().EnsureAsync();

        Assert.Equal(setup.Blob.DeviceSize, new FileInfo(path).Length);
        Assert.Equal(before + 1, await fixture.SettledBlobGetsAsync(setup.Blob.Digest, 200));
    }
}
