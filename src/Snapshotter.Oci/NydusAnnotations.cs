namespace Snapshotter.Oci;

/// <summary>Media types and annotations of the Nydus image convention (what containerd copies into snapshot labels).</summary>
public static class NydusAnnotations
{
    /// <summary>Media type of a data blob layer (chunks, chunk table and ToC; not a tar).</summary>
    public const string BlobMediaType = "application/vnd.oci.image.layer.nydus.blob.v1";

    /// <summary>Media type of the bootstrap layer: an ordinary gzip tar holding <see cref="BootstrapPath"/>.</summary>
    public const string BootstrapMediaType = MediaTypes.OciLayerTarGzip;

    /// <summary>Layer annotation of a data blob (value <c>true</c>).</summary>
    public const string Blob = "containerd.io/snapshot/nydus-blob";

    /// <summary>Layer annotation of the bootstrap layer (value <c>true</c>).</summary>
    public const string Bootstrap = "containerd.io/snapshot/nydus-bootstrap";

    /// <summary>Layer annotation of the bootstrap layer naming the RAFS version (<c>6</c>).</summary>
    public const string FsVersion = "containerd.io/snapshot/nydus-fs-version";

    /// <summary>Where the bootstrap layer's tar holds the EROFS bootstrap.</summary>
    public const string BootstrapPath = "image/image.boot";
}
