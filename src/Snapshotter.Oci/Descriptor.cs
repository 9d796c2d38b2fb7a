namespace Snapshotter.Oci;

/// <summary>An OCI content descriptor: media type, digest and size, plus the optional fields the snapshotter reads.</summary>
public sealed record Descriptor(string MediaType, string Digest, long Size)
{
    private static readonly IReadOnlyDictionary<string, string> EmptyAnnotations = new Dictionary<string, string>();

    /// <summary>Annotations (e.g. lazy-pull markers); empty when absent.</summary>
    public IReadOnlyDictionary<string, string> Annotations { get; init; } = EmptyAnnotations;

    /// <summary>The platform of an index entry, when given.</summary>
    public Platform? Platform { get; init; }

    /// <summary>Alternative download locations (<c>urls</c>), when given.</summary>
    public IReadOnlyList<string> Urls { get; init; } = [];
}
