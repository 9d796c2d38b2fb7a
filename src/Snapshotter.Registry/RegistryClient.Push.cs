using System.Buffers;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using Snapshotter.Registry.Hosts;
using Snapshotter.Registry.Http;
using Snapshotter.Oci;

namespace Snapshotter.Registry;

public sealed partial class RegistryClient
{
    /// <summary>Checks with <c>HEAD</c> whether the repository already has the blob (so an upload can be skipped).</summary>
    public Task<bool> BlobExistsAsync(BlobLocator blob, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(blob);
        return ExecuteAsync(blob.Repository, HeadBlobSpec(blob, HostCapabilities.Push, alsoAccept: 404), 0, static (response, _, _) => ValueTask.FromResult(response.StatusCode != HttpStatusCode.NotFound), keepResponse: false, cancellationToken);
    }

    /// <summary>
    /// Uploads a blob unless the repository has it already. Content up to <see cref="RegistryClientOptions.UploadChunkSize"/>
    /// goes in one <c>PUT</c> (monolithic); larger content in <c>PATCH</c> chunks then a closing <c>PUT</c>. The
    /// content is hashed while uploading; if it does not match <see cref="BlobLocator.Digest"/> the upload is
    /// cancelled and <see cref="RegistryErrorKind.DigestMismatch"/> thrown.
    /// </summary>
    /// <returns>True when bytes were uploaded, false when the blob already existed.</returns>
    public async Task<bool> PushBlobAsync(BlobLocator blob, Stream content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(blob);
        ArgumentNullException.ThrowIfNull(content);
        if (await BlobExistsAsync(blob, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        RegistryHost host = SelectHosts(blob.Repository, HostCapabilities.Push)[0];
        Uri location = await StartUploadAsync(blob.Repository, host, $"{blob.Repository.Repository}/blobs/uploads/", PushScope(blob.Repository), cancellationToken).ConfigureAwait(false);
        int chunkSize = _options.UploadChunkSize;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(chunkSize);
        using IncrementalHash hash = OciDigest.CreateHash(blob.Digest);
        long uploaded = 0;
        int chunks = 0;
        try
        {
            int read = await content.ReadAtLeastAsync(buffer.AsMemory(0, chunkSize), chunkSize, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            while (true)
            {
                hash.AppendData(buffer, 0, read);
                bool last = read < chunkSize;
                if (last && chunks == 0)
                {
                    // Small blob: one PUT carries everything (monolithic upload).
                    VerifyUploadDigest(blob, hash);
                    await FinishUploadAsync(blob, host, location, buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    uploaded = read;
                    chunks = 1;
                    break;
                }

                if (read > 0)
                {
                    location = await PatchChunkAsync(blob, host, location, buffer.AsMemory(0, read), uploaded, cancellationToken).ConfigureAwait(false);
                    uploaded += read;
                    chunks++;
                }

                if (last)
                {
                    VerifyUploadDigest(blob, hash);
                    await FinishUploadAsync(blob, host, location, ReadOnlyMemory<byte>.Empty, cancellationToken).ConfigureAwait(false);
                    break;
                }

                read = await content.ReadAtLeastAsync(buffer.AsMemory(0, chunkSize), chunkSize, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (RegistryException ex) when (ex.Kind == RegistryErrorKind.DigestMismatch)
        {
            await CancelUploadAsync(blob.Repository, host, location).ConfigureAwait(false);
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        Log.BlobUploaded(_logger, blob.Digest, blob.Repository.Repository, uploaded, chunks);
        return true;
    }

    /// <summary>
    /// Asks the registry to link a blob from <paramref name="fromRepository"/> (same registry) into the target
    /// repository without uploading it. Returns false when the registry declined (then upload normally).
    /// </summary>
    public async Task<bool> MountBlobAsync(BlobLocator target, string fromRepository, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        ImageReference source = target.Repository.WithRepository(fromRepository);
        RegistryHost host = SelectHosts(target.Repository, HostCapabilities.Push)[0];
        var spec = new RequestSpec
        {
            Method = HttpMethod.Post,
            Path = $"{target.Repository.Repository}/blobs/uploads/?mount={Uri.EscapeDataString(target.Digest)}&from={Uri.EscapeDataString(source.Repository)}",
            Scope = PushScope(target.Repository) + " " + PullScope(source),
            Capability = HostCapabilities.Push,
            Operation = $"mount blob {target.Digest} from {source.Repository} into {target.Repository.Repository}",
            FixedHost = host,
        };

        (bool mounted, Uri? location) = await ExecuteAsync(target.Repository, spec, host, static (response, host, _) =>
        {
            if (response.StatusCode == HttpStatusCode.Created)
            {
                return ValueTask.FromResult((true, (Uri?)null));
            }

            // 202: the registry opened an upload instead; we close it and let the caller upload.
            return ValueTask.FromResult((false, response.Headers.Location is { } l ? (l.IsAbsoluteUri ? l : new Uri(host.BaseUri, l)) : null));
        }, keepResponse: false, cancellationToken).ConfigureAwait(false);

        if (!mounted && location is not null)
        {
            await CancelUploadAsync(target.Repository, host, location).ConfigureAwait(false);
        }

        return mounted;
    }

    /// <summary>
    /// Uploads a manifest or index under <paramref name="reference"/>'s tag (or digest) with
    /// <paramref name="mediaType"/> as its <c>Content-Type</c>, and returns its digest (checked against the registry's).
    /// </summary>
    public Task<string> PushManifestAsync(ImageReference reference, string mediaType, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentException.ThrowIfNullOrEmpty(mediaType);
        string digest = OciDigest.Compute(content.Span);
        if (reference.Digest is not null && reference.Digest != digest)
        {
            throw new RegistryException(RegistryErrorKind.DigestMismatch, $"manifest content hashes to {digest}, not to the reference's {reference.Digest}");
        }

        var spec = new RequestSpec
        {
            Method = HttpMethod.Put,
            Path = $"{reference.Repository}/manifests/{reference.Tag ?? digest}",
            Scope = PushScope(reference),
            Capability = HostCapabilities.Push,
            Operation = $"PUT manifest {reference}",
            Content = content,
            ContentType = mediaType,
        };

        return ExecuteAsync(reference, spec, digest, static (response, digest, _) =>
        {
            string? served = response.Headers.TryGetValues("Docker-Content-Digest", out IEnumerable<string>? v) ? v.FirstOrDefault() : null;
            if (served is not null && served != digest)
            {
                throw new RegistryException(RegistryErrorKind.DigestMismatch, $"registry stored the manifest as {served}, expected {digest}");
            }

            return ValueTask.FromResult(digest);
        }, keepResponse: false, cancellationToken);
    }

    private Task<Uri> StartUploadAsync(ImageReference repository, RegistryHost host, string path, string scope, CancellationToken cancellationToken)
    {
        var spec = new RequestSpec
        {
            Method = HttpMethod.Post,
            Path = path,
            Scope = scope,
            Capability = HostCapabilities.Push,
            Operation = $"start upload to {repository.Repository}",
            FixedHost = host,
        };

        return ExecuteAsync(repository, spec, host, static (response, host, _) => ValueTask.FromResult(UploadLocation(response, host)), keepResponse: false, cancellationToken);
    }

    private async Task<Uri> PatchChunkAsync(BlobLocator blob, RegistryHost host, Uri location, ReadOnlyMemory<byte> chunk, long start, CancellationToken cancellationToken)
    {
        var spec = new RequestSpec
        {
            Method = HttpMethod.Patch,
            AbsoluteUri = location,
            Scope = PushScope(blob.Repository),
            Capability = HostCapabilities.Push,
            Operation = $"upload chunk of {blob.Digest} at {start}",
            Content = chunk,
            UploadContentRange = string.Create(CultureInfo.InvariantCulture, $"{start}-{start + chunk.Length - 1}"),
            Idempotent = false,
            FixedHost = host,
        };

        return await ExecuteAsync(blob.Repository, spec, (Host: host, Start: start, Length: (long)chunk.Length), static (response, s, _) =>
        {
            if (response.Headers.TryGetValues("Range", out IEnumerable<string>? ranges)
                && ranges.FirstOrDefault() is { } range
                && range.StartsWith("0-", StringComparison.Ordinal)
                && long.TryParse(range.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out long end)
                && end != s.Start + s.Length - 1)
            {
                throw new RegistryException(RegistryErrorKind.InvalidResponse, $"upload chunk: registry has bytes 0-{end}, expected 0-{s.Start + s.Length - 1}");
            }

            return ValueTask.FromResult(UploadLocation(response, s.Host));
        }, keepResponse: false, cancellationToken).ConfigureAwait(false);
    }

    private Task<bool> FinishUploadAsync(BlobLocator blob, RegistryHost host, Uri location, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        var builder = new UriBuilder(location);
        string digestParameter = "digest=" + Uri.EscapeDataString(blob.Digest);
        builder.Query = string.IsNullOrEmpty(builder.Query) || builder.Query == "?" ? digestParameter : builder.Query.TrimStart('?') + "&" + digestParameter;
        var spec = new RequestSpec
        {
            Method = HttpMethod.Put,
            AbsoluteUri = builder.Uri,
            Scope = PushScope(blob.Repository),
            Capability = HostCapabilities.Push,
            Operation = $"finish upload of {blob}",
            Content = content,
            Idempotent = false,
            FixedHost = host,
        };

        return ExecuteAsync(blob.Repository, spec, blob, static (response, blob, _) =>
        {
            string? served = response.Headers.TryGetValues("Docker-Content-Digest", out IEnumerable<string>? v) ? v.FirstOrDefault() : null;
            if (served is not null && served != blob.Digest)
            {
                throw new RegistryException(RegistryErrorKind.DigestMismatch, $"registry stored blob {blob.Digest} as {served}");
            }

            return ValueTask.FromResult(true);
        }, keepResponse: false, cancellationToken);
    }

    private async Task CancelUploadAsync(ImageReference repository, RegistryHost host, Uri location)
    {
        var spec = new RequestSpec
        {
            Method = HttpMethod.Delete,
            AbsoluteUri = location,
            Scope = PushScope(repository),
            Capability = HostCapabilities.Push,
            Operation = "cancel upload",
            Idempotent = false,
            FixedHost = host,
        };

        try
        {
            using var timeout = new CancellationTokenSource(_options.AttemptTimeout);
            await ExecuteAsync(repository, spec, 0, static (_, _, _) => ValueTask.FromResult(true), keepResponse: false, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RegistryException or OperationCanceledException)
        {
            // Best effort: the registry expires abandoned uploads by itself.
        }
    }

    private static void VerifyUploadDigest(BlobLocator blob, IncrementalHash hash)
    {
        Span<byte> buffer = stackalloc byte[64];
        int written = hash.GetCurrentHash(buffer);
        string actual = OciDigest.Format(blob.Digest, buffer[..written]);
        if (actual != blob.Digest)
        {
            throw new RegistryException(RegistryErrorKind.DigestMismatch, $"upload content hashes to {actual}, not to {blob.Digest}");
        }
    }

    private static Uri UploadLocation(HttpResponseMessage response, RegistryHost host)
    {
        Uri? location = response.Headers.Location;
        if (location is null)
        {
            throw new RegistryException(RegistryErrorKind.InvalidResponse, $"upload on {host.Authority}: {(int)response.StatusCode} without a Location header");
        }

        return location.IsAbsoluteUri ? location : new Uri(host.BaseUri, location);
    }
}
