namespace Snapshotter.Core.Remote;

/// <summary>Where a snapshot's parent chain meets a lazily pulled image.</summary>
/// <param name="Index">Position of the bootstrap snapshot in the chain (nearest parent first); the snapshots above it are ordinary layers.</param>
/// <param name="BootstrapId">The bootstrap snapshot's id: it names the image's shared lazy mount.</param>
/// <param name="Image">What the remote file system needs to mount the image.</param>
internal sealed record LazyChain(int Index, long BootstrapId, RemoteImage Image);
