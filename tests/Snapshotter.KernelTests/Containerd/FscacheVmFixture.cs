namespace Snapshotter.KernelTests.Containerd;

/// <summary>The service in <c>--lazy-mode fscache</c>: cachefiles on-demand, EROFS mounted by fsid in one shared domain.</summary>
public sealed class FscacheVmFixture(LazyVmImages images) : VmLazyFixture(images, "fscache");
