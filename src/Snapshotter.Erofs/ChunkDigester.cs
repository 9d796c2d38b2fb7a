namespace Snapshotter.Erofs;

/// <summary>
/// The hash of each chunk's uncompressed bytes in a data blob's <c>blob.digest</c> table. The numeric values are
/// the ones Nydus writes in the RAFS v6 blob table (<c>digest::Algorithm</c>). The blob's own digest and the ToC
/// entries' digests are always sha256 (OCI content addressing); only the per-chunk digests follow this.
/// </summary>
public enum ChunkDigester
{
    /// <summary>BLAKE3-256: nydus-image's default and ours.</summary>
    Blake3 = 0,

    /// <summary>SHA-256.</summary>
    Sha256 = 1,
}
