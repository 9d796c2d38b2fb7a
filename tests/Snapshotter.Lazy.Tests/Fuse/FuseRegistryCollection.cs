namespace Snapshotter.Lazy.Tests.Fuse;

/// <summary>Test classes sharing the <see cref="FuseRegistryFixture"/> (its registry is stopped and restarted by some).</summary>
[CollectionDefinition(Name)]
public sealed class FuseRegistryCollection : ICollectionFixture<FuseRegistryFixture>
{
    public const string Name = "fuse registry";
}
