namespace Snapshotter.KernelTests.Containerd;

/// <summary>The containerd test classes share one registry and its images (<see cref="LazyVmImages"/>).</summary>
[CollectionDefinition(Name)]
public sealed class ContainerdCollection : ICollectionFixture<LazyVmImages>
{
    public const string Name = "containerd in the guest";
}
