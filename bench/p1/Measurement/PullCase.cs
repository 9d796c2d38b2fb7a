namespace Snapshotter.P1.Benchmarks.Measurement;

internal enum PullCase
{
    /// <summary>The converted image, <c>ctr-remote images rpull</c> + <c>ctr run</c> on our service (proxy plugin <c>nydus</c>).</summary>
    Lazy,

    /// <summary>The ordinary gzip image, <c>ctr images pull</c> + <c>ctr run</c> on containerd's built-in overlayfs.</summary>
    Ordinary,
}
