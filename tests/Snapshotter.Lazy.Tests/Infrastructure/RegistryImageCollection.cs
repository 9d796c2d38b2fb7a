namespace Snapshotter.Lazy.Tests.Infrastructure;

/// <summary>Test classes sharing the <see cref="RegistryImageFixture"/> (converted once per run).</summary>
[CollectionDefinition(Name)]
public sealed class RegistryImageCollection : ICollectionFixture<RegistryImageFixture>
{
    public const string Name = "registry image";
}
