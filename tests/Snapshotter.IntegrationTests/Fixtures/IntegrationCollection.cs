namespace Snapshotter.IntegrationTests.Fixtures;

/// <summary>
/// All integration tests share one collection: they run one class at a time (the machine is
/// small) and share the test image, built once per run.
/// </summary>
[CollectionDefinition(Name)]
public sealed class IntegrationCollection : ICollectionFixture<TestImage>
{
    public const string Name = "containerd";
}
