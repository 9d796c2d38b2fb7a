using Snapshotter.Oci;

namespace Snapshotter.Registry;

/// <summary>
/// A parsed image reference <c>[host[:port]/]name[:tag][@digest]</c>, normalized like Docker:
/// <c>ubuntu</c> is <c>docker.io/library/ubuntu:latest</c>.
/// </summary>
public sealed record ImageReference
{
    /// <summary>The registry name used in references and credentials (Docker Hub's is <c>docker.io</c>).</summary>
    public const string DockerHub = "docker.io";

    /// <summary>The host that serves Docker Hub's registry API.</summary>
    public const string DockerHubApiHost = "registry-1.docker.io";

    private ImageReference(string registry, string repository, string? tag, string? digest)
    {
        Registry = registry;
        Repository = repository;
        Tag = tag;
        Digest = digest;
    }

    /// <summary>The registry as written (<c>docker.io</c>, <c>127.0.0.1:5000</c>, <c>ghcr.io</c>).</summary>
    public string Registry { get; }

    /// <summary>The repository path inside the registry (<c>library/ubuntu</c>).</summary>
    public string Repository { get; }

    /// <summary>The tag, or null when the reference names only a digest.</summary>
    public string? Tag { get; }

    /// <summary>The digest, when the reference pins one.</summary>
    public string? Digest { get; }

    /// <summary>The host[:port] that serves the registry API (<c>registry-1.docker.io</c> for Docker Hub).</summary>
    public string ApiHost => Registry == DockerHub ? DockerHubApiHost : Registry;

    /// <summary>The tag or digest used to fetch the manifest (the digest wins when both are present).</summary>
    public string ManifestReference => Digest ?? Tag ?? "latest";

    /// <summary>Parses and normalizes a reference.</summary>
    /// <exception cref="RegistryException">The reference is malformed (kind <see cref="RegistryErrorKind.InvalidReference"/>).</exception>
    public static ImageReference Parse(string reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        if (TryParse(reference, out ImageReference? result, out string? error))
        {
            return result;
        }

        throw new RegistryException(RegistryErrorKind.InvalidReference, $"invalid image reference \"{reference}\": {error}");
    }

    /// <summary>Parses a reference; returns false and a reason when it is malformed.</summary>
    public static bool TryParse(string reference, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ImageReference? result, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        result = null;
        if (string.IsNullOrWhiteSpace(reference))
        {
            error = "it is empty";
            return false;
        }

        if (reference.Length > 4096 || reference.AsSpan().IndexOfAny(" \t\r\n") >= 0)
        {
            error = "it contains whitespace or is too long";
            return false;
        }

        string rest = reference;
        string? digest = null;
        int at = rest.IndexOf('@');
        if (at >= 0)
        {
            digest = rest[(at + 1)..];
            rest = rest[..at];
            if (!OciDigest.IsValid(digest))
            {
                error = "the digest must be sha256:<64 lowercase hex> or sha512:<128 lowercase hex>";
                return false;
            }
        }

        string? tag = null;
        int lastSlash = rest.LastIndexOf('/');
        int colon = rest.LastIndexOf(':');
        if (colon > lastSlash)
        {
            tag = rest[(colon + 1)..];
            rest = rest[..colon];
            if (!IsValidTag(tag))
            {
                error = $"the tag \"{tag}\" must match [A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}}";
                return false;
            }
        }

        string registry = DockerHub;
        string path = rest;
        int slash = rest.IndexOf('/');
        if (slash > 0)
        {
            string first = rest[..slash];
            if (first.Contains('.') || first.Contains(':') || first == "localhost" || first.Any(char.IsAsciiLetterUpper))
            {
                registry = first;
                path = rest[(slash + 1)..];
            }
        }

        if (registry == "index.docker.io" || registry == DockerHubApiHost)
        {
            registry = DockerHub;
        }

        if (!IsValidHost(registry))
        {
            error = $"the registry host \"{registry}\" is not a valid host[:port]";
            return false;
        }

        if (registry == DockerHub && !path.Contains('/'))
        {
            path = "library/" + path;
        }

        if (!IsValidRepository(path))
        {
            error = $"the repository \"{path}\" must be lowercase components [a-z0-9]+ joined by '.', '_', '__' or '-' and separated by '/'";
            return false;
        }

        if (registry.Length + 1 + path.Length > 255)
        {
            error = "the name is longer than 255 characters";
            return false;
        }

        if (tag is null && digest is null)
        {
            tag = "latest";
        }

        result = new ImageReference(registry, path, tag, digest);
        error = null;
        return true;
    }

    /// <summary>Returns this repository pinned to <paramref name="digest"/> (the tag is kept for display).</summary>
    public ImageReference WithDigest(string digest)
    {
        RegistryException.ThrowIfInvalidDigest(digest);
        return new ImageReference(Registry, Repository, Tag, digest);
    }

    /// <summary>Returns this repository with another tag and no digest.</summary>
    public ImageReference WithTag(string tag)
    {
        if (!IsValidTag(tag))
        {
            throw new RegistryException(RegistryErrorKind.InvalidReference, $"invalid tag \"{tag}\"");
        }

        return new ImageReference(Registry, Repository, tag, null);
    }

    /// <summary>Returns the same registry with another repository path (used for cross-repository mounts).</summary>
    public ImageReference WithRepository(string repository)
    {
        if (!IsValidRepository(repository))
        {
            throw new RegistryException(RegistryErrorKind.InvalidReference, $"invalid repository \"{repository}\"");
        }

        return new ImageReference(Registry, repository, Tag, Digest);
    }

    /// <summary>Locates a blob of this repository.</summary>
    public BlobLocator Blob(string digest) => new(this, digest);

    /// <summary>The fully qualified reference, e.g. <c>docker.io/library/ubuntu:latest</c>.</summary>
    public override string ToString() =>
        $"{Registry}/{Repository}{(Tag is null ? "" : ":" + Tag)}{(Digest is null ? "" : "@" + Digest)}";

    private static bool IsValidTag(string tag)
    {
        if (tag.Length is 0 or > 128 || !(char.IsAsciiLetterOrDigit(tag[0]) || tag[0] == '_'))
        {
            return false;
        }

        foreach (char c in tag)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsValidHost(string host)
    {
        ReadOnlySpan<char> span = host;
        if (span.Length == 0)
        {
            return false;
        }

        // IPv6 literals are written in brackets: [::1]:5000.
        if (span[0] == '[')
        {
            int close = span.IndexOf(']');
            if (close < 0 || !System.Net.IPAddress.TryParse(span[1..close], out _))
            {
                return false;
            }

            span = span[(close + 1)..];
            return span.Length == 0 || (span[0] == ':' && IsPort(span[1..]));
        }

        int colon = span.IndexOf(':');
        if (colon >= 0)
        {
            if (!IsPort(span[(colon + 1)..]))
            {
                return false;
            }

            span = span[..colon];
        }

        if (span.Length == 0)
        {
            return false;
        }

        foreach (string label in span.ToString().Split('.'))
        {
            if (label.Length == 0 || label[0] == '-' || label[^1] == '-' || !label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsPort(ReadOnlySpan<char> port) =>
        port.Length is > 0 and <= 5 && int.TryParse(port, System.Globalization.NumberStyles.None, null, out int value) && value is > 0 and <= 65535;

    private static bool IsValidRepository(string path)
    {
        if (path.Length == 0)
        {
            return false;
        }

        foreach (string component in path.Split('/'))
        {
            if (!IsValidComponent(component))
            {
                return false;
            }
        }

        return true;
    }

    // distribution/reference: [a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*
    private static bool IsValidComponent(string component)
    {
        if (component.Length == 0 || !IsAlnum(component[0]) || !IsAlnum(component[^1]))
        {
            return false;
        }

        for (int i = 1; i < component.Length - 1; i++)
        {
            char c = component[i];
            if (IsAlnum(c) || c == '-')
            {
                continue;
            }

            if (c == '.')
            {
                if (!IsAlnum(component[i + 1]))
                {
                    return false;
                }
            }
            else if (c == '_')
            {
                if (component[i + 1] == '_')
                {
                    i++;
                    if (i + 1 >= component.Length || !IsAlnum(component[i + 1]))
                    {
                        return false;
                    }
                }
                else if (!IsAlnum(component[i + 1]))
                {
                    return false;
                }
            }
            else
            {
                return false;
            }
        }

        return true;

        static bool IsAlnum(char c) => char.IsAsciiDigit(c) || char.IsAsciiLetterLower(c);
    }
}
