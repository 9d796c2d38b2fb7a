namespace Snapshotter.Erofs.Conversion;

/// <summary>
/// A converter source or target: <c>oci:PATH[:TAG]</c> (an OCI image layout directory as skopeo and
/// umoci write it). Registry references are recognised and refused until the registry client lands.
/// </summary>
public sealed record ImageReference(string LayoutPath, string Tag)
{
    /// <summary>The tag used when none is given.</summary>
    public const string DefaultTag = "latest";

    public static ImageReference Parse(string text)
    {
        if (!text.StartsWith("oci:", StringComparison.Ordinal))
        {
            throw new NotSupportedException($"'{text}': registry references are not supported yet; use oci:PATH[:TAG]");
        }

        string rest = text[4..];
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

        return new ImageReference(Path.GetFullPath(path), tag);
    }

    public override string ToString() => $"oci:{LayoutPath}:{Tag}";
}
