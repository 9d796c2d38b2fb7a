namespace Snapshotter.KernelTests.Containerd;

/// <summary>The service in <c>--lazy-mode fscache</c>, its cache on the ext4 scratch disk.</summary>
public sealed class FscacheContainerdFixture : ContainerdStackFixture
{
    protected override string LazyMode => "fscache";

    protected override bool CacheOnTmpfs => false;
}
