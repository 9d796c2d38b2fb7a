namespace Snapshotter.Core.Remote;

/// <summary>A row of the <c>remote_layers</c> table: the lazy-image facts of one snapshot.</summary>
/// <param name="SnapshotId">The snapshot's id (stable across commit).</param>
/// <param name="Kind">Data blob or bootstrap.</param>
/// <param name="ImageRef">The image reference from the labels (empty when none was given, for a bootstrap).</param>
/// <param name="Digest">The layer digest (data blobs; may be empty for a bootstrap).</param>
/// <param name="Size">The blob size (data blobs), else 0.</param>
internal sealed record RemoteLayerRecord(long SnapshotId, RemoteLayerKind Kind, string ImageRef, string Digest, long Size);
