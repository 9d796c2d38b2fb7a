using Snapshotter.Oci;

namespace Snapshotter.Core.Remote;

/// <summary>
/// Snapshot labels of containerd's remote-snapshot protocol and of lazily pullable (Nydus RAFS v6 style) images.
/// containerd copies every layer annotation starting with <c>containerd.io/snapshot/</c> into the labels of that
/// layer's Prepare; the CRI plugin (with <c>disable_snapshot_annotations = false</c>) and <c>ctr-remote images
/// rpull</c> add the image reference and layer digest under their own keys.
/// </summary>
internal static class RemoteLabels
{
    /// <summary>The committed snapshot name (chain id) containerd wants; a remote commit must carry it.</summary>
    public const string TargetRef = "containerd.io/snapshot.ref";

    /// <summary>Layer annotation of a data blob (value <c>true</c>).</summary>
    public const string DataBlob = NydusAnnotations.Blob;

    /// <summary>Layer annotation of the bootstrap layer (value <c>true</c>), a small tar holding <c>image/image.boot</c>.</summary>
    public const string Bootstrap = NydusAnnotations.Bootstrap;

    /// <summary>Image reference added by containerd's CRI plugin.</summary>
    public const string CriImageRef = "containerd.io/snapshot/cri.image-ref";

    /// <summary>Layer digest added by containerd's CRI plugin.</summary>
    public const string CriLayerDigest = "containerd.io/snapshot/cri.layer-digest";

    /// <summary>Image reference added by <c>ctr-remote images rpull</c> (stargz-snapshotter's labels).</summary>
    public const string StargzReference = "containerd.io/snapshot/remote/stargz.reference";

    /// <summary>Layer digest added by <c>ctr-remote images rpull</c>.</summary>
    public const string StargzDigest = "containerd.io/snapshot/remote/stargz.digest";

    /// <summary>The image's layer digests from this layer on, comma-separated, added by the CRI plugin.</summary>
    public const string CriImageLayers = "containerd.io/snapshot/cri.image-layers";

    /// <summary>The image's layer digests from this layer on, comma-separated, added by <c>ctr-remote images rpull</c>.</summary>
    public const string StargzLayers = "containerd.io/snapshot/remote/stargz.layers";

    /// <summary>Where the bootstrap layer puts the EROFS bootstrap inside its snapshot.</summary>
    public const string BootstrapPath = NydusAnnotations.BootstrapPath;

    /// <summary>True when the labels mark a data-blob layer.</summary>
    public static bool IsDataBlob(IReadOnlyDictionary<string, string> labels) => IsTrue(labels, DataBlob);

    /// <summary>True when the labels mark the bootstrap layer.</summary>
    public static bool IsBootstrap(IReadOnlyDictionary<string, string> labels) => IsTrue(labels, Bootstrap);

    /// <summary>The image reference (CRI's label first, then ctr-remote's), or null.</summary>
    public static string? ImageRef(IReadOnlyDictionary<string, string> labels) => First(labels, CriImageRef, StargzReference);

    /// <summary>The layer digest (CRI's label first, then ctr-remote's), or null.</summary>
    public static string? LayerDigest(IReadOnlyDictionary<string, string> labels) => First(labels, CriLayerDigest, StargzDigest);

    /// <summary>
    /// The digests of this layer and the ones containerd will prepare after it (CRI's label first, then ctr-remote's);
    /// entries that are not valid digests are skipped (the CRI plugin truncates the list to fit a label).
    /// </summary>
    public static IReadOnlyList<string> Layers(IReadOnlyDictionary<string, string> labels) =>
        First(labels, CriImageLayers, StargzLayers) is { } list
            ? list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Where(OciDigest.IsValid).ToArray()
            : [];

    /// <summary>The target snapshot name, or null.</summary>
    public static string? Target(IReadOnlyDictionary<string, string> labels) => First(labels, TargetRef, TargetRef);

    private static bool IsTrue(IReadOnlyDictionary<string, string> labels, string key) =>
        labels.TryGetValue(key, out var value) && string.Equals(value.Trim(), "true", StringComparison.OrdinalIgnoreCase);

    private static string? First(IReadOnlyDictionary<string, string> labels, string key, string fallback)
    {
        if (labels.TryGetValue(key, out var value) && !string.IsNullOrWhiteSpace(value))
        {
            return value.Trim();
        }

        return labels.TryGetValue(fallback, out value) && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;
    }
}
