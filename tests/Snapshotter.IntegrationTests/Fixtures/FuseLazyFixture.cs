namespace Snapshotter.IntegrationTests.Fixtures;

/// <summary>The lazy-pull setup with <c>--lazy-mode fuse</c>: our service serves blob files over FUSE (each READ fetched on demand) under a kernel EROFS mount.</summary>
public sealed class FuseLazyFixture(LazyImages images) : LazyContainerdFixture(images, "fuse");
