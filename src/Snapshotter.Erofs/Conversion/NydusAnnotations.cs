namespace Snapshotter.Erofs.Conversion;

/// <summary>Media types and annotations of the Nydus image convention (what containerd copies into snapshot labels).</summary>
public static class NydusAnnotations
{
    public const string BlobMediaType = "application/vnd.oci.image.layer.nydus.blob.v1";
    public const string BootstrapMediaType = "application/vnd.oci.image.layer.v1.tar+gzip";
    public const string Blob = "containerd.io/snapshot/nydus-blob";
    public const string Bootstrap = "containerd.io/snapshot/nydus-bootstrap";
    public const string FsVersion = "containerd.io/snapshot/nydus-fs-version";
    public const string BootstrapPath = "image/image.boot";
}
