using Microsoft.AspNetCore.Http;
using Snapshotter.Core.Remote;
using Snapshotter.Erofs.Reading;
using Snapshotter.Lazy.Blobs;
using Snapshotter.Lazy.Tests.Infrastructure;
using Snapshotter.Registry;
using Snapshotter.Registry.Tests.Infrastructure;
using Xunit.Abstractions;
using Snapshotter.Oci;

namespace Snapshotter.Lazy.Tests;

/// <summary>
/// A registry serving tampered, cut or refused blobs (the fault proxy in front of a real docker-registry): the mount
/// fails with a clear error and leaves nothing behind, and a later mount against the intact registry succeeds.
/// </summary>
public sealed class LazyFileSystemCorruptionTests(FaultyRegistryFixture fixture, ITestOutputHelper output) : IClassFixture<FaultyRegistryFixture>
{
    /// <summary>Whole-blob GETs (no Range header) of <paramref name="digest"/>.</summary>
    private static Func<HttpRequest, bool> WholeGetOf(string digest) =>
        r => r.Method == "GET" && r.Path.Value!.EndsWith("/blobs/" + digest, StringComparison.Ordinal) && !r.Headers.ContainsKey("Range");

    private static long ChunkInfoOffset(RemoteImage image, string digest)
    {
        using var bootstrap = ErofsImage.Open(image.BootstrapPath);
        return (long)bootstrap.Blobs.Single(b => "sha256:" + b.BlobId == digest).ChunkInfoOffset;
    }

    private async Task AssertNothingLeftAsync(LazyHarness harness, string mnt, Descriptor blob)
    {
        Assert.False(HostMounts.IsMounted(mnt), "a failed mount must not leave a mount");
        Assert.Empty(Directory.EnumerateFileSystemEntries(mnt));
        Assert.False(harness.Lazy.IsMounted(mnt));
        Assert.Equal(0, harness.Lazy.MountedImages);
        Assert.Equal(0, harness.Lazy.BlobsInUse);
        Assert.DoesNotContain(harness.BlobFiles(), f => f.EndsWith(BlobFileCache.PartialSuffix, StringComparison.Ordinal));
        Assert.DoesNotContain(blob.Digest["sha256:".Length..], harness.BlobFiles());
        Assert.Equal(0, fixture.Proxy.PendingFaults);

        // The intact registry: the same component mounts the image at the same place.
        var image = await harness.ResolveAsync(fixture.Reference);
        await harness.Lazy.MountAsync(image, mnt);
        TreeAssert.Matches(fixture.Image, mnt);
        Assert.Equal(image.Layers.Count, harness.Lazy.BlobsInUse);
    }

    [Fact]
    public async Task MountAsync_ChunkBytesTampered_FailsNamingTheChunkAndAnIntactMountSucceeds()
    {
        await using var harness = await LazyHarness.StartAsync(output);
        var image = await harness.ResolveAsync(fixture.Reference);
        var blob = fixture.Converted.BigBlob;
        Assert.True(blob.Size / 2 < ChunkInfoOffset(image, blob.Digest), "the proxy flips the middle byte, which must lie in chunk data");
        fixture.Proxy.Enqueue(new Fault(FaultKind.CorruptBody) { Matches = WholeGetOf(blob.Digest) });
        var mnt = harness.NewMountPoint("tampered");

        var e = await Assert.ThrowsAsync<SnapshotterException>(() => harness.Lazy.MountAsync(image, mnt).AsTask());

        output.WriteLine(e.Message);
        Assert.Contains(blob.Digest, e.Message);
        Assert.Matches(@"chunk \d+: (sha256 mismatch|does not decode)", e.Message);
        Assert.Equal(ErrorKind.Unavailable, e.Kind);
        await AssertNothingLeftAsync(harness, mnt, blob);
    }

    [Fact]
    public async Task MountAsync_BlobTailTampered_TheWholeBlobDigestCatchesIt()
    {
        await using var harness = await LazyHarness.StartAsync(output);
        var image = await harness.ResolveAsync(fixture.Reference);
        var blob = fixture.Converted.Conversion.DataBlobs[^1];
        Assert.True(blob.Size / 2 >= ChunkInfoOffset(image, blob.Digest), "the tiny-file layer's middle byte must lie past its chunk data");
        fixture.Proxy.Enqueue(new Fault(FaultKind.CorruptBody) { Matches = WholeGetOf(blob.Digest) });
        var mnt = harness.NewMountPoint("tail");

        var e = await Assert.ThrowsAsync<SnapshotterException>(() => harness.Lazy.MountAsync(image, mnt).AsTask());

        output.WriteLine(e.Message);
        Assert.Contains(blob.Digest, e.Message);
        var registry = Assert.IsType<RegistryException>(e.InnerException);
        Assert.Equal(RegistryErrorKind.DigestMismatch, registry.Kind);
        Assert.Equal(0, harness.Metrics.DigestFailureCount);
        await AssertNothingLeftAsync(harness, mnt, blob);
    }

    [Fact]
    public async Task MountAsync_ConnectionCutMidDownload_ResumedVerifiedAndMounted()
    {
        await using var harness = await LazyHarness.StartAsync(output);
        var image = await harness.ResolveAsync(fixture.Reference);
        var blob = fixture.Converted.BigBlob;
        var rangesBefore = fixture.Proxy.Count(s => s.Method == "GET" && s.Path.EndsWith(blob.Digest, StringComparison.Ordinal));
        fixture.Proxy.Enqueue(new Fault(FaultKind.TruncateBody) { Matches = WholeGetOf(blob.Digest) });
        var mnt = harness.NewMountPoint("cut");

        await harness.Lazy.MountAsync(image, mnt);

        Assert.Equal(0, fixture.Proxy.PendingFaults);
        TreeAssert.Matches(fixture.Image, mnt);

        // The cut GET, then a resumed Range GET (the chunk-table GET came before both).
        var gets = fixture.Proxy.Count(s => s.Method == "GET" && s.Path.EndsWith(blob.Digest, StringComparison.Ordinal)) - rangesBefore;
        Assert.True(gets >= 3, $"{gets} GETs of the blob");
        Assert.Equal(0, harness.Metrics.DigestFailureCount);
    }

    [Fact]
    public async Task ResolveImageAsync_BootstrapLayerTampered_FailsAndCachesNothingThenTheIntactImageResolves()
    {
        await using var harness = await LazyHarness.StartAsync(output);
        var layer = fixture.Converted.Conversion.BootstrapLayer;
        fixture.Proxy.Enqueue(new Fault(FaultKind.CorruptBody) { Matches = WholeGetOf(layer.Digest) });
        var bootstraps = Path.Combine(harness.CacheDirectory, "bootstraps");

        var e = await Assert.ThrowsAsync<SnapshotterException>(() => harness.ResolveAsync(fixture.Reference));

        output.WriteLine(e.Message);
        Assert.Equal(0, fixture.Proxy.PendingFaults);
        Assert.Contains(layer.Digest, e.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(bootstraps));
        var image = await harness.ResolveAsync(fixture.Reference);
        await harness.Lazy.ValidateAsync(image);
        var mnt = harness.NewMountPoint("after-tamper");
        await harness.Lazy.MountAsync(image, mnt);
        TreeAssert.Matches(fixture.Image, mnt);
    }

    [Fact]
    public async Task MountAsync_CancelledDuringDownloadThenRetried_RetrySucceedsWithVerifiedFiles()
    {
        // Both whole-blob GETs stall for one attempt timeout, then resume: the cancelled mount's download goes on in the
        // background and finishes while the retry's download of the same blob is still running.
        var options = new RegistryClientOptions { HostsDirectory = null, AttemptTimeout = TimeSpan.FromSeconds(2) };
        await using var harness = await LazyHarness.StartAsync(output, clientOptions: options);
        var image = await harness.ResolveAsync(fixture.Reference);
        var blob = fixture.Converted.BigBlob;
        fixture.Proxy.Enqueue(new Fault(FaultKind.StallBody) { Matches = WholeGetOf(blob.Digest) }, times: 2);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => harness.Lazy.MountAsync(image, harness.NewMountPoint("cancelled"), cts.Token).AsTask());
        Assert.Equal(0, harness.Lazy.BlobsInUse);
        var mnt = harness.NewMountPoint("retried");
        await harness.Lazy.MountAsync(image, mnt);

        Assert.Equal(0, fixture.Proxy.PendingFaults);
        TreeAssert.Matches(fixture.Image, mnt);
        for (var i = 0; i < 100 && harness.BlobFiles().Any(f => f.EndsWith(BlobFileCache.PartialSuffix, StringComparison.Ordinal)); i++)
        {
            await Task.Delay(100);
        }

        Assert.DoesNotContain(harness.BlobFiles(), f => f.EndsWith(BlobFileCache.PartialSuffix, StringComparison.Ordinal));
        var again = harness.NewMountPoint("again");
        await harness.Lazy.MountAsync(await harness.ResolveAsync(fixture.Reference), again);
        TreeAssert.Matches(fixture.Image, again);
    }

    [Fact]
    public async Task MountAsync_RegistryRefusesTheBlob_UnavailableNamingItAndALaterMountSucceeds()
    {
        var options = new RegistryClientOptions { HostsDirectory = null, MaxRetries = 1, RetryBaseDelay = TimeSpan.FromMilliseconds(10), RetryMaxDelay = TimeSpan.FromMilliseconds(20) };
        await using var harness = await LazyHarness.StartAsync(output, clientOptions: options);
        var image = await harness.ResolveAsync(fixture.Reference);
        var blob = fixture.Converted.Conversion.DataBlobs[1];
        fixture.Proxy.Enqueue(new Fault(FaultKind.Status) { Status = 503, Matches = WholeGetOf(blob.Digest) }, times: 2);
        var mnt = harness.NewMountPoint("refused");

        var e = await Assert.ThrowsAsync<SnapshotterException>(() => harness.Lazy.MountAsync(image, mnt).AsTask());

        output.WriteLine(e.Message);
        Assert.Equal(ErrorKind.Unavailable, e.Kind);
        Assert.Contains(blob.Digest, e.Message);
        await AssertNothingLeftAsync(harness, mnt, blob);
    }
}
