using System.Text.Json;

namespace Snapshotter.Registry;

/// <summary>An OCI content descriptor: media type, digest and size, plus the optional fields the snapshotter reads.</summary>
public sealed record Descriptor(string MediaType, string Digest, long Size)
{
    /// <summary>Annotations (e.g. lazy-pull markers); empty when absent.</summary>
    public IReadOnlyDictionary<string, string> Annotations { get; init; } = EmptyAnnotations;

    /// <summary>The platform of an index entry, when given.</summary>
    public Platform? Platform { get; init; }

    /// <summary>Alternative download locations (<c>urls</c>), when given.</summary>
    public IReadOnlyList<string> Urls { get; init; } = [];

    private static readonly IReadOnlyDictionary<string, string> EmptyAnnotations = new Dictionary<string, string>();

    /// <summary>Reads a descriptor object; throws <see cref="RegistryErrorKind.InvalidResponse"/> when required fields are missing.</summary>
    internal static Descriptor FromJson(JsonElement element, string context)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw Invalid(context, "a descriptor is not a JSON object");
        }

        string? mediaType = element.TryGetProperty("mediaType", out JsonElement mt) && mt.ValueKind == JsonValueKind.String ? mt.GetString() : null;
        string? digest = element.TryGetProperty("digest", out JsonElement d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
        if (!element.TryGetProperty("size", out JsonElement s) || s.ValueKind != JsonValueKind.Number || !s.TryGetInt64(out long size) || size < 0)
        {
            throw Invalid(context, "a descriptor has no valid size");
        }

        if (!OciDigest.IsValid(digest))
        {
            throw Invalid(context, "a descriptor has no valid digest");
        }

        Dictionary<string, string>? annotations = null;
        if (element.TryGetProperty("annotations", out JsonElement a) && a.ValueKind == JsonValueKind.Object)
        {
            annotations = [];
            foreach (JsonProperty p in a.EnumerateObject())
            {
                if (p.Value.ValueKind == JsonValueKind.String)
                {
                    annotations[p.Name] = p.Value.GetString()!;
                }
            }
        }

        Platform? platform = null;
        if (element.TryGetProperty("platform", out JsonElement p2) && p2.ValueKind == JsonValueKind.Object
            && p2.TryGetProperty("os", out JsonElement os) && p2.TryGetProperty("architecture", out JsonElement arch)
            && os.ValueKind == JsonValueKind.String && arch.ValueKind == JsonValueKind.String)
        {
            string? variant = p2.TryGetProperty("variant", out JsonElement v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            platform = new Platform(os.GetString()!, arch.GetString()!, variant);
        }

        List<string>? urls = null;
        if (element.TryGetProperty("urls", out JsonElement u) && u.ValueKind == JsonValueKind.Array)
        {
            urls = [.. u.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!)];
        }

        return new Descriptor(mediaType ?? "", digest!, size)
        {
            Annotations = annotations ?? EmptyAnnotations,
            Platform = platform,
            Urls = urls ?? [],
        };
    }

    private static RegistryException Invalid(string context, string problem) =>
        new(RegistryErrorKind.InvalidResponse, $"{context}: {problem}");
}
