namespace Snapshotter.IntegrationTests.Fixtures;

/// <summary>The lazy-pull setup with <c>--lazy-mode blob-fetch</c>: our service downloads each data blob whole at an image's first mount, then mounts EROFS from the files.</summary>
public sealed class BlobFetchLazyFixture(LazyImages images) : LazyContainerdFixture(images, "blob-fetch");
