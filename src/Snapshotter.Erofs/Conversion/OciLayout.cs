using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Snapshotter.Erofs.Conversion;

/// <summary>
/// An OCI image layout directory (<c>oci-layout</c>, <c>index.json</c>, <c>blobs/sha256/…</c>) as a
/// converter source and sink. Tags are the <c>org.opencontainers.image.ref.name</c> annotation.
/// </summary>
internal sealed class OciLayout : IImageSource, IImageSink
{
    public const string RefNameAnnotation = "org.opencontainers.image.ref.name";
    private const long MaxJsonSize = 4 * 1024 * 1024;

    private readonly string _root;
    private readonly string _tag;

    public OciLayout(string root, string tag)
    {
        _root = root;
        _tag = tag;
    }

    public OciLayout(OciLayoutReference reference)
        : this(reference.LayoutPath, reference.Tag)
    {
    }

    /// <inheritdoc />
    public async Task<SourceImage> ResolveAsync(string? platform, CancellationToken cancellationToken = default)
    {
        JsonNode index = await ReadJsonFileAsync(Path.Combine(_root, "index.json"), cancellationToken).ConfigureAwait(false);
        JsonArray manifests = index["manifests"] as JsonArray ?? throw new InvalidImageException($"{_root}/index.json has no manifests");
        JsonNode? chosen = manifests.FirstOrDefault(m => m?["annotations"]?[RefNameAnnotation]?.GetValue<string>() == _tag);
        if (chosen is null && manifests.Count == 1 && manifests[0]?["annotations"]?[RefNameAnnotation] is null)
        {
            chosen = manifests[0];
        }

        if (chosen is null)
        {
            throw new InvalidImageException($"tag '{_tag}' not found in {_root}/index.json");
        }

        Descriptor descriptor = ToDescriptor(chosen);
        for (int depth = 0; depth < 4; depth++)
        {
            JsonNode doc = await ReadJsonBlobAsync(descriptor, cancellationToken).ConfigureAwait(false);
            string mediaType = doc["mediaType"]?.GetValue<string>() ?? descriptor.MediaType;
            if (MediaTypes.IsIndex(mediaType) || (doc["manifests"] is JsonArray && doc["layers"] is null))
            {
                descriptor = SelectPlatform(doc["manifests"] as JsonArray ?? [], platform);
                continue;
            }

            Descriptor config = ToDescriptor(doc["config"] ?? throw new InvalidImageException($"manifest {descriptor.Digest} has no config"));
            var layers = (doc["layers"] as JsonArray ?? throw new InvalidImageException($"manifest {descriptor.Digest} has no layers"))
                .Select(l => ToDescriptor(l!)).ToList();
            return new SourceImage(config, layers);
        }

        throw new InvalidImageException($"image index nesting in {_root} is too deep");
    }

    /// <inheritdoc />
    public Task<Stream> OpenBlobAsync(Descriptor descriptor, CancellationToken cancellationToken = default)
    {
        string path = BlobPath(descriptor.Digest);
        if (!File.Exists(path))
        {
            throw new InvalidImageException($"blob {descriptor.Digest} is missing from {_root}");
        }

        return Task.FromResult<Stream>(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: false));
    }

    /// <inheritdoc />
    public async Task PutBlobAsync(Descriptor descriptor, Stream content, CancellationToken cancellationToken = default)
    {
        EnsureLayout();
        string path = BlobPath(descriptor.Digest);
        if (File.Exists(path) && new FileInfo(path).Length == descriptor.Size)
        {
            return;
        }

        string temp = path + ".tmp";
        var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        await using (file.ConfigureAwait(false))
        {
            await content.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
        }

        File.Move(temp, path, overwrite: true);
    }

    /// <inheritdoc />
    public async Task PutManifestAsync(Descriptor descriptor, ReadOnlyMemory<byte> manifest, CancellationToken cancellationToken = default)
    {
        EnsureLayout();
        await File.WriteAllBytesAsync(BlobPath(descriptor.Digest), manifest.ToArray(), cancellationToken).ConfigureAwait(false);
        string indexPath = Path.Combine(_root, "index.json");
        JsonNode index = File.Exists(indexPath)
            ? await ReadJsonFileAsync(indexPath, cancellationToken).ConfigureAwait(false)
            : new JsonObject { ["schemaVersion"] = 2, ["mediaType"] = MediaTypes.OciIndex, ["manifests"] = new JsonArray() };
        var manifests = index["manifests"] as JsonArray ?? [];
        foreach (JsonNode? old in manifests.Where(m => m?["annotations"]?[RefNameAnnotation]?.GetValue<string>() == _tag).ToList())
        {
            manifests.Remove(old);
        }

        JsonNode entry = DescriptorJson.ToJson(descriptor with { Annotations = new Dictionary<string, string> { [RefNameAnnotation] = _tag } });
        manifests.Add(entry);
        index["manifests"] = manifests;
        await File.WriteAllTextAsync(indexPath, index.ToJsonString(), cancellationToken).ConfigureAwait(false);
    }

    private void EnsureLayout()
    {
        Directory.CreateDirectory(Path.Combine(_root, "blobs", "sha256"));
        string marker = Path.Combine(_root, "oci-layout");
        if (!File.Exists(marker))
        {
            File.WriteAllText(marker, "{\"imageLayoutVersion\":\"1.0.0\"}");
        }
    }

    private string BlobPath(string digest)
    {
        if (!OciDigest.IsSha256(digest))
        {
            throw new InvalidImageException($"'{digest}' is not a sha256 digest");
        }

        return Path.Combine(_root, "blobs", "sha256", OciDigest.Hex(digest));
    }

    private static Descriptor SelectPlatform(JsonArray manifests, string? platform)
    {
        Platform wanted;
        try
        {
            wanted = platform is null ? new Platform("linux", HostArchitecture()) : Platform.Parse(platform);
        }
        catch (FormatException e)
        {
            throw new InvalidImageException(e.Message, e);
        }

        foreach (JsonNode? m in manifests)
        {
            Descriptor candidate = ToDescriptor(m!);
            if (candidate.Platform is { } p && wanted.Matches(p))
            {
                return candidate;
            }
        }

        throw new InvalidImageException($"no manifest for platform {wanted}");
    }

    private static string HostArchitecture() => RuntimeInformation.OSArchitecture switch
    {
        Architecture.X64 => "amd64",
        Architecture.Arm64 => "arm64",
        Architecture.Arm => "arm",
        Architecture.S390x => "s390x",
        Architecture.Ppc64le => "ppc64le",
        _ => RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant(),
    };

    private static Descriptor ToDescriptor(JsonNode node)
    {
        return DescriptorJson.TryRead(JsonSerializer.SerializeToElement(node), out Descriptor? descriptor, out string? problem)
            ? descriptor
            : throw new InvalidImageException($"malformed descriptor: {problem}");
    }

    private async Task<JsonNode> ReadJsonBlobAsync(Descriptor descriptor, CancellationToken cancellationToken)
    {
        if (descriptor.Size > MaxJsonSize)
        {
            throw new InvalidImageException($"{descriptor.Digest}: manifest of {descriptor.Size} bytes is too large");
        }

        return await ReadJsonFileAsync(BlobPath(descriptor.Digest), cancellationToken).ConfigureAwait(false);
    }

    private static async Task<JsonNode> ReadJsonFileAsync(string path, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            throw new InvalidImageException($"{path} does not exist");
        }

        if (new FileInfo(path).Length > MaxJsonSize)
        {
            throw new InvalidImageException($"{path} is too large");
        }

        try
        {
            var file = File.OpenRead(path);
            await using (file.ConfigureAwait(false))
            {
                return await JsonNode.ParseAsync(file, cancellationToken: cancellationToken).ConfigureAwait(false) ?? throw new InvalidImageException($"{path} is empty");
            }
        }
        catch (JsonException e)
        {
            throw new InvalidImageException($"{path}: malformed JSON: {e.Message}", e);
        }
    }

}
