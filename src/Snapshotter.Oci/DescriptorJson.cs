using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Snapshotter.Oci;

/// <summary>Reads and writes <see cref="Descriptor"/> objects as the OCI image spec lays them out in JSON.</summary>
public static class DescriptorJson
{
    /// <summary>
    /// Reads a descriptor object. False, with <paramref name="problem"/> saying why, when it is not an object or
    /// lacks a valid digest or size; unknown fields are ignored and malformed optional ones are dropped.
    /// </summary>
    public static bool TryRead(JsonElement element, [NotNullWhen(true)] out Descriptor? descriptor, [NotNullWhen(false)] out string? problem)
    {
        descriptor = null;
        if (element.ValueKind != JsonValueKind.Object)
        {
            problem = "a descriptor is not a JSON object";
            return false;
        }

        string? mediaType = element.TryGetProperty("mediaType", out JsonElement mt) && mt.ValueKind == JsonValueKind.String ? mt.GetString() : null;
        string? digest = element.TryGetProperty("digest", out JsonElement d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
        if (!element.TryGetProperty("size", out JsonElement s) || s.ValueKind != JsonValueKind.Number || !s.TryGetInt64(out long size) || size < 0)
        {
            problem = "a descriptor has no valid size";
            return false;
        }

        if (!OciDigest.IsValid(digest))
        {
            problem = "a descriptor has no valid digest";
            return false;
        }

        descriptor = new Descriptor(mediaType ?? "", digest, size)
        {
            Platform = ReadPlatform(element),
            Urls = element.TryGetProperty("urls", out JsonElement u) && u.ValueKind == JsonValueKind.Array
                ? [.. u.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!)]
                : [],
        };
        if (ReadAnnotations(element) is { } annotations)
        {
            descriptor = descriptor with { Annotations = annotations };
        }

        problem = null;
        return true;
    }

    /// <summary>
    /// The descriptor as a JSON object: <c>mediaType</c>, <c>digest</c>, <c>size</c>, then <c>annotations</c>,
    /// <c>platform</c> and <c>urls</c> only when present (the field order of the spec's examples).
    /// </summary>
    public static JsonObject ToJson(Descriptor descriptor)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        var json = new JsonObject
        {
            ["mediaType"] = descriptor.MediaType,
            ["digest"] = descriptor.Digest,
            ["size"] = descriptor.Size,
        };
        if (descriptor.Annotations.Count > 0)
        {
            var annotations = new JsonObject();
            foreach ((string key, string value) in descriptor.Annotations)
            {
                annotations[key] = value;
            }

            json["annotations"] = annotations;
        }

        if (descriptor.Platform is { } platform)
        {
            var p = new JsonObject { ["architecture"] = platform.Architecture, ["os"] = platform.Os };
            if (platform.Variant is not null)
            {
                p["variant"] = platform.Variant;
            }

            json["platform"] = p;
        }

        if (descriptor.Urls.Count > 0)
        {
            json["urls"] = new JsonArray([.. descriptor.Urls.Select(url => (JsonNode)JsonValue.Create(url))]);
        }

        return json;
    }

    private static Dictionary<string, string>? ReadAnnotations(JsonElement element)
    {
        if (!element.TryGetProperty("annotations", out JsonElement a) || a.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var annotations = new Dictionary<string, string>();
        foreach (JsonProperty p in a.EnumerateObject())
        {
            if (p.Value.ValueKind == JsonValueKind.String)
            {
                annotations[p.Name] = p.Value.GetString()!;
            }
        }

        return annotations;
    }

    private static Platform? ReadPlatform(JsonElement element)
    {
        if (element.TryGetProperty("platform", out JsonElement p) && p.ValueKind == JsonValueKind.Object
            && p.TryGetProperty("os", out JsonElement os) && p.TryGetProperty("architecture", out JsonElement arch)
            && os.ValueKind == JsonValueKind.String && arch.ValueKind == JsonValueKind.String)
        {
            string? variant = p.TryGetProperty("variant", out JsonElement v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            return new Platform(os.GetString()!, arch.GetString()!, variant);
        }

        return null;
    }
}
