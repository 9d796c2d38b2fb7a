namespace Snapshotter.Oci;

/// <summary>
/// The hash of each chunk's uncompressed bytes in a data blob's <c>blob.digest</c> table. The numeric values are
/// the ones Nydus writes in the RAFS v6 blob table (<c>digest::Algorithm</c>). The blob's own digest and the ToC
/// entries' digests are always sha256 (OCI content addressing); only the per-chunk digests follow this. One type for
/// the image format (Snapshotter.Erofs) and the chunk fetcher (Snapshotter.Cache), which both reference this library.
/// </summary>
public enum ChunkDigester
{
    /// <summary>BLAKE3-256: nydus-image's default.</summary>
    Blake3 = 0,

    /// <summary>SHA-256: the converter's default.</summary>
    Sha256 = 1,
}
