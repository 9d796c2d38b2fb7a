using System.Text.Json;
using Snapshotter.Registry.Hosts;
using Snapshotter.Registry.Http;
using Snapshotter.Oci;

namespace Snapshotter.Registry;

public sealed partial class RegistryClient
{
    /// <summary>Manifests larger than this are refused (the distribution spec's recommended limit).</summary>
    private const int MaxManifestBytes = 4 * 1024 * 1024;

    /// <summary>
    /// Resolves <paramref name="reference"/> to the image manifest for <paramref name="platform"/>
    /// (default <see cref="RegistryClientOptions.DefaultPlatform"/>): follows an index to the matching entry and
    /// verifies the digest of everything it fetched.
    /// </summary>
    /// <exception cref="RegistryException">Not found (also: no manifest for the platform), auth, transport or verification failures.</exception>
    public async Task<ResolvedImage> ResolveAsync(ImageReference reference, Platform? platform = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reference);
        platform ??= _options.DefaultPlatform;
        FetchedManifest top = await GetManifestAsync(reference, cancellationToken).ConfigureAwait(false);
        FetchedManifest? index = null;
        FetchedManifest manifest = top;
        if (MediaTypes.IsIndex(top.Descriptor.MediaType))
        {
            index = top;
            Descriptor chosen = SelectPlatform(reference, top, platform);
            manifest = await GetManifestAsync(reference.WithDigest(chosen.Digest), cancellationToken).ConfigureAwait(false);
            if (manifest.Descriptor.Size != chosen.Size)
            {
                throw new RegistryException(RegistryErrorKind.DigestMismatch, $"manifest {chosen.Digest} of {reference} has {manifest.Descriptor.Size} bytes but the index says {chosen.Size}");
            }
        }

        if (!MediaTypes.IsManifest(manifest.Descriptor.MediaType))
        {
            throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{reference} resolved to unsupported media type \"{manifest.Descriptor.MediaType}\" (expected an OCI or Docker schema 2 manifest)");
        }

        string context = $"manifest {manifest.Descriptor.Digest} of {reference}";
        try
        {
            using JsonDocument doc = JsonDocument.Parse(manifest.Content);
            JsonElement root = doc.RootElement;
            if (!root.TryGetProperty("config", out JsonElement config) || !root.TryGetProperty("layers", out JsonElement layers) || layers.ValueKind != JsonValueKind.Array)
            {
                throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{context} has no config or layers");
            }

            var layerList = new List<Descriptor>(layers.GetArrayLength());
            foreach (JsonElement layer in layers.EnumerateArray())
            {
                layerList.Add(ReadDescriptor(layer, context));
            }

            var annotations = new Dictionary<string, string>(StringComparer.Ordinal);
            if (root.TryGetProperty("annotations", out JsonElement a) && a.ValueKind == JsonValueKind.Object)
            {
                foreach (JsonProperty p in a.EnumerateObject())
                {
                    if (p.Value.ValueKind == JsonValueKind.String)
                    {
                        annotations[p.Name] = p.Value.GetString()!;
                    }
                }
            }

            return new ResolvedImage
            {
                Reference = reference.WithDigest(top.Descriptor.Digest),
                Index = index,
                Manifest = manifest,
                Config = ReadDescriptor(config, context),
                Layers = layerList,
                Annotations = annotations,
            };
        }
        catch (JsonException ex)
        {
            throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{context} is not valid JSON: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Fetches a manifest or index by tag or digest, exactly as served, and verifies its digest against the
    /// requested digest (or against <c>Docker-Content-Digest</c> when fetched by tag).
    /// </summary>
    public Task<FetchedManifest> GetManifestAsync(ImageReference reference, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reference);
        var spec = new RequestSpec
        {
            Method = HttpMethod.Get,
            Path = $"{reference.Repository}/manifests/{reference.ManifestReference}",
            Scope = PullScope(reference),
            Capability = reference.Digest is null ? HostCapabilities.Resolve : HostCapabilities.Pull,
            Operation = $"GET manifest {reference}",
            Accept = MediaTypes.ManifestAccept,
        };

        return ExecuteAsync(reference, spec, reference, static (response, reference, ct) => ReadManifestAsync(response, reference, ct), keepResponse: false, cancellationToken);
    }

    private static async ValueTask<FetchedManifest> ReadManifestAsync(HttpResponseMessage response, ImageReference reference, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength is > MaxManifestBytes)
        {
            throw new RegistryException(RegistryErrorKind.InvalidResponse, $"manifest of {reference} is larger than {MaxManifestBytes} bytes");
        }

        byte[] content = await ReadLimitedAsync(response, MaxManifestBytes, cancellationToken).ConfigureAwait(false);
        string? served = response.Headers.TryGetValues("Docker-Content-Digest", out IEnumerable<string>? values) ? values.FirstOrDefault() : null;
        string expected = reference.Digest ?? (OciDigest.IsValid(served) ? served : OciDigest.Sha256Prefix);
        string actual = OciDigest.Compute(content, expected);
        if ((reference.Digest is not null || OciDigest.IsValid(served)) && actual != expected)
        {
            throw new RegistryException(RegistryErrorKind.DigestMismatch, $"manifest of {reference} hashes to {actual}, expected {expected}");
        }

        string? mediaType = null;
        try
        {
            using JsonDocument doc = JsonDocument.Parse(content);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("mediaType", out JsonElement mt) && mt.ValueKind == JsonValueKind.String)
            {
                mediaType = mt.GetString();
            }
        }
        catch (JsonException ex)
        {
            throw new RegistryException(RegistryErrorKind.InvalidResponse, $"manifest of {reference} is not valid JSON: {ex.Message}", ex);
        }

        mediaType ??= response.Content.Headers.ContentType?.MediaType ?? "";
        return new FetchedManifest(new Descriptor(mediaType, actual, content.Length), content);
    }

    /// <summary>Reads a descriptor of a manifest or index; throws <see cref="RegistryErrorKind.InvalidResponse"/> when required fields are missing.</summary>
    private static Descriptor ReadDescriptor(JsonElement element, string context) =>
        DescriptorJson.TryRead(element, out Descriptor? descriptor, out string? problem)
            ? descriptor
            : throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{context}: {problem}");

    private static async Task<byte[]> ReadLimitedAsync(HttpResponseMessage response, int limit, CancellationToken cancellationToken)
    {
        using Stream stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        byte[] chunk = System.Buffers.ArrayPool<byte>.Shared.Rent(81920);
        try
        {
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    throw new RegistryException(RegistryErrorKind.InvalidResponse, $"answer is larger than {limit} bytes");
                }

                buffer.Write(chunk, 0, read);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(chunk);
        }

        return buffer.ToArray();
    }

    private static Descriptor SelectPlatform(ImageReference reference, FetchedManifest index, Platform platform)
    {
        string context = $"index {index.Descriptor.Digest} of {reference}";
        try
        {
            using JsonDocument doc = JsonDocument.Parse(index.Content);
            if (!doc.RootElement.TryGetProperty("manifests", out JsonElement manifests) || manifests.ValueKind != JsonValueKind.Array)
            {
                throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{context} has no manifests array");
            }

            var available = new List<string>();
            foreach (JsonElement entry in manifests.EnumerateArray())
            {
                Descriptor descriptor = ReadDescriptor(entry, context);
                if (descriptor.Platform is { } candidate)
                {
                    available.Add(candidate.ToString());
                    if (platform.Matches(candidate) && (MediaTypes.IsManifest(descriptor.MediaType) || descriptor.MediaType.Length == 0))
                    {
                        return descriptor;
                    }
                }
            }

            throw new RegistryException(RegistryErrorKind.NotFound, $"{reference} has no manifest for platform {platform} (available: {(available.Count == 0 ? "none" : string.Join(", ", available.Distinct()))})");
        }
        catch (JsonException ex)
        {
            throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{context} is not valid JSON: {ex.Message}", ex);
        }
    }
}
