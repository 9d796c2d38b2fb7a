namespace Snapshotter.Core.Remote;

/// <summary>What a remote file system needs to mount a lazily pulled image.</summary>
/// <param name="ImageRef">The image reference (from the bootstrap layer's labels, else a data layer's).</param>
/// <param name="BootstrapPath">The local EROFS bootstrap file.</param>
/// <param name="Layers">The image's data blobs, lowest layer first.</param>
public sealed record RemoteImage(string ImageRef, string BootstrapPath, IReadOnlyList<RemoteLayer> Layers);
