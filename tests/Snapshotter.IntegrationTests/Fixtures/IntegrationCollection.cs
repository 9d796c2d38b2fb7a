namespace Snapshotter.IntegrationTests.Fixtures;

/// <summary>
/// All integration tests share one collection: they run one class at a time (the machine is
/// small) and share the test images, built once per run (the lazy-pull images and their registry
/// only when a test first needs them).
/// </summary>
[CollectionDefinition(Name)]
public sealed class IntegrationCollection : ICollectionFixture<TestImage>, ICollectionFixture<LazyImages>
{
    public const string Name = "containerd";
}
