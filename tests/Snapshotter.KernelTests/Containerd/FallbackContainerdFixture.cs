namespace Snapshotter.KernelTests.Containerd;

/// <summary>
/// The service in <c>--lazy-mode auto</c> with its cache directory on tmpfs, where Linux 6.1's cachefiles refuses
/// <c>bind</c>: auto must fall back (to blob-fetch through loop devices in this 6.1 guest).
/// </summary>
public sealed class FallbackContainerdFixture : ContainerdStackFixture
{
    protected override string LazyMode => "auto";

    protected override bool CacheOnTmpfs => true;
}
