namespace Snapshotter.Oci;

/// <summary>An OCI platform (<c>os/architecture[/variant]</c>), normalized like containerd (<c>x86_64</c> is <c>amd64</c>).</summary>
public sealed record Platform
{
    public Platform(string os, string architecture, string? variant = null)
    {
        Os = os.ToLowerInvariant();
        (Architecture, Variant) = Normalize(architecture.ToLowerInvariant(), string.IsNullOrEmpty(variant) ? null : variant.ToLowerInvariant());
    }

    /// <summary>The default platform when none is given: <c>linux/amd64</c>.</summary>
    public static Platform Default { get; } = new("linux", "amd64");

    public string Os { get; }

    public string Architecture { get; }

    /// <summary>The CPU variant (<c>v7</c>, <c>v8</c>), or null.</summary>
    public string? Variant { get; }

    /// <summary>Parses <c>os/arch[/variant]</c>; throws <see cref="FormatException"/> for anything else.</summary>
    public static Platform Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        string[] parts = value.Split('/');
        if (parts.Length is < 2 or > 3 || parts.Any(string.IsNullOrWhiteSpace))
        {
            throw new FormatException($"invalid platform \"{value}\": expected os/architecture[/variant], e.g. linux/amd64");
        }

        return new Platform(parts[0], parts[1], parts.Length == 3 ? parts[2] : null);
    }

    /// <summary>
    /// True when an index entry for <paramref name="candidate"/> can run here. A missing variant on
    /// either side matches, except that arm64 without a variant means v8.
    /// </summary>
    public bool Matches(Platform candidate)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        if (Os != candidate.Os || Architecture != candidate.Architecture)
        {
            return false;
        }

        return Variant is null || candidate.Variant is null || Variant == candidate.Variant;
    }

    public override string ToString() => Variant is null ? $"{Os}/{Architecture}" : $"{Os}/{Architecture}/{Variant}";

    private static (string Architecture, string? Variant) Normalize(string architecture, string? variant) => architecture switch
    {
        "x86_64" or "x86-64" => ("amd64", variant),
        "i386" => ("386", variant),
        "aarch64" or "arm64" => ("arm64", variant is null or "8" ? "v8" : variant),
        "armhf" => ("arm", "v7"),
        "armel" => ("arm", "v6"),
        "arm" => ("arm", variant is null ? "v7" : (variant[0] == 'v' ? variant : "v" + variant)),
        _ => (architecture, variant),
    };
}
