namespace Snapshotter.Erofs.Conversion;

/// <summary>
/// A converter source or target: <c>oci:PATH[:TAG]</c> (an OCI image layout directory as skopeo and
/// umoci write it). Registry references are the registry client's <c>ImageReference</c>.
/// </summary>
internal sealed record OciLayoutReference(string LayoutPath, string Tag)
{
    /// <summary>The tag used when none is given.</summary>
    public const string DefaultTag = "latest";

    /// <summary>The scheme that marks an OCI layout reference.</summary>
    public const string Scheme = "oci:";

    /// <summary>True when <paramref name="text"/> names an OCI layout (<c>oci:</c>...) rather than a registry image.</summary>
    public static bool IsLayout(string text) => text.StartsWith(Scheme, StringComparison.Ordinal);

    public static OciLayoutReference Parse(string text)
    {
        if (!IsLayout(text))
        {
            throw new NotSupportedException($"'{text}': not an OCI layout reference (oci:PATH[:TAG])");
        }

        string rest = text[Scheme.Length..];
        int slash = rest.LastIndexOf('/');
        int colon = rest.LastIndexOf(':');
        string path = rest, tag = DefaultTag;
        if (colon > slash)
        {
            path = rest[..colon];
            tag = rest[(colon + 1)..];
        }

        if (path.Length == 0 || tag.Length == 0)
        {
            throw new ArgumentException($"'{text}': expected oci:PATH[:TAG]", nameof(text));
        }

        return new OciLayoutReference(Path.GetFullPath(path), tag);
    }

    public override string ToString() => $"oci:{LayoutPath}:{Tag}";
}
