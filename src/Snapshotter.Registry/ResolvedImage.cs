using Snapshotter.Oci;

namespace Snapshotter.Registry;

/// <summary>The result of resolving a reference for one platform: the image manifest and what it lists.</summary>
public sealed record ResolvedImage
{
    /// <summary>The reference, pinned to the digest of what it resolved to (the index when there was one).</summary>
    public required ImageReference Reference { get; init; }

    /// <summary>The index the tag pointed at, or null when it pointed straight at a manifest.</summary>
    public FetchedManifest? Index { get; init; }

    /// <summary>The platform's image manifest (verified).</summary>
    public required FetchedManifest Manifest { get; init; }

    /// <summary>The image config blob descriptor.</summary>
    public required Descriptor Config { get; init; }

    /// <summary>The layer descriptors, base layer first.</summary>
    public required IReadOnlyList<Descriptor> Layers { get; init; }

    /// <summary>The manifest's annotations; empty when absent.</summary>
    public IReadOnlyDictionary<string, string> Annotations { get; init; } = new Dictionary<string, string>();
}
