using Snapshotter.IntegrationTests.Fixtures;
using Xunit.Abstractions;
using Snapshotter.Oci;

namespace Snapshotter.IntegrationTests.Lazy;

/// <summary>The lazy-pull acceptance with <c>--lazy-mode blob-fetch</c>: data blobs are downloaded whole by our service at an image's first mount.</summary>
[Collection(IntegrationCollection.Name)]
public sealed class BlobFetchLazyPullTests(BlobFetchLazyFixture fixture, ITestOutputHelper output)
    : LazyPullTests(fixture, output), IClassFixture<BlobFetchLazyFixture>
{
    /// <summary>blob-fetch reads nothing lazily: the first mount downloads every data blob once, whole.</summary>
    protected override void AssertColdReadTraffic(IReadOnlyDictionary<string, long> servedBytes, IReadOnlyList<Descriptor> dataBlobs)
    {
        foreach (var blob in dataBlobs)
        {
            Assert.InRange(servedBytes[blob.Digest], blob.Size, 2 * blob.Size);
        }
    }
}
