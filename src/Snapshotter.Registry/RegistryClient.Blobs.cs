using System.Buffers;
using System.Net;
using Snapshotter.Registry.Hosts;
using Snapshotter.Registry.Http;

namespace Snapshotter.Registry;

public sealed partial class RegistryClient
{
    private const int SkipBufferSize = 64 * 1024;

    /// <summary>
    /// Reads exactly <c>destination.Length</c> bytes of <paramref name="blob"/> starting at <paramref name="offset"/>
    /// with an HTTP range request. Succeeds only with exactly the right bytes: the answer must be a <c>206</c>
    /// whose <c>Content-Range</c> and length match (or a <c>200</c> with the whole blob, which is skipped to the
    /// offset, or a single-part <c>multipart/byteranges</c>); anything else is retried or thrown.
    /// </summary>
    /// <remarks>
    /// Range reads cannot be verified against the blob digest; callers verify chunk digests where the format has
    /// them. Redirect targets (object storage) are cached per blob until they fail.
    /// </remarks>
    /// <exception cref="RegistryException"><see cref="RegistryErrorKind.RangeNotSatisfiable"/> when the range is past the end of the blob, or any transport/auth failure.</exception>
    public Task ReadAsync(BlobLocator blob, long offset, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(blob);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (destination.IsEmpty)
        {
            return Task.CompletedTask;
        }

        var spec = new RequestSpec
        {
            Method = HttpMethod.Get,
            Path = $"{blob.Repository.Repository}/blobs/{blob.Digest}",
            Scope = PullScope(blob.Repository),
            Capability = HostCapabilities.Pull,
            Operation = "GET blob range",
            RangeFrom = offset,
            RangeTo = offset + destination.Length - 1,
            RedirectCacheKey = blob.CacheKey,
        };

        return ExecuteAsync(blob.Repository, spec, new RangeRead(blob, offset, destination), static (response, read, ct) => CopyRangeAsync(response, read, ct), keepResponse: false, cancellationToken);
    }

    /// <summary>
    /// Opens the whole blob as a stream. The stream hashes what it returns and throws
    /// <see cref="RegistryErrorKind.DigestMismatch"/> at the end if the content does not match the digest
    /// (or <paramref name="expectedSize"/>, when given). Each read must progress within <see cref="RegistryClientOptions.AttemptTimeout"/>.
    /// </summary>
    public Task<Stream> OpenBlobAsync(BlobLocator blob, long? expectedSize = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(blob);
        var spec = new RequestSpec
        {
            Method = HttpMethod.Get,
            Path = $"{blob.Repository.Repository}/blobs/{blob.Digest}",
            Scope = PullScope(blob.Repository),
            Capability = HostCapabilities.Pull,
            Operation = $"GET blob {blob}",
            RedirectCacheKey = blob.CacheKey,
        };

        return ExecuteAsync(
            blob.Repository,
            spec,
            (Blob: blob, Size: expectedSize, Timeout: _options.AttemptTimeout),
            static async (response, state, ct) =>
            {
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    throw new RegistryException(RegistryErrorKind.InvalidResponse, $"GET blob {state.Blob}: expected 200 for a whole blob, got {(int)response.StatusCode}");
                }

                long? length = response.Content.Headers.ContentLength;
                if (state.Size is { } size && length is { } l && l != size)
                {
                    throw new RegistryException(RegistryErrorKind.DigestMismatch, $"GET blob {state.Blob}: the registry serves {l} bytes but the descriptor says {size}");
                }

                Stream body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
                return (Stream)new VerifyingStream(response, body, state.Blob, state.Size ?? length, state.Timeout);
            },
            keepResponse: true,
            cancellationToken);
    }

    private static async ValueTask<bool> CopyRangeAsync(HttpResponseMessage response, RangeRead read, CancellationToken cancellationToken)
    {
        long length = read.Destination.Length;
        long last = read.Offset + length - 1;
        string where = $"GET blob {read.Blob} bytes {read.Offset}-{last}";
        HttpContent content = response.Content;
        if (response.StatusCode == HttpStatusCode.PartialContent)
        {
            if (content.Headers.ContentType?.MediaType is "multipart/byteranges")
            {
                await MultipartByteRanges.ReadSinglePartAsync(content, read.Offset, read.Destination, where, cancellationToken).ConfigureAwait(false);
                return true;
            }

            ContentRangeHeaderValueCheck(content, read.Offset, last, where);
            if (content.Headers.ContentLength is { } contentLength && contentLength != length)
            {
                throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{where}: Content-Length {contentLength} does not match the range");
            }

            Stream body = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await ReadExactlyAsync(body, read.Destination, where, cancellationToken).ConfigureAwait(false);
            if (content.Headers.ContentLength is null)
            {
                await EnsureEndAsync(body, where, cancellationToken).ConfigureAwait(false);
            }

            return true;
        }

        if (response.StatusCode == HttpStatusCode.OK)
        {
            // The server ignored Range and sends the whole blob: skip to the offset.
            if (content.Headers.ContentLength is { } total && total < read.Offset + length)
            {
                throw new RegistryException(RegistryErrorKind.RangeNotSatisfiable, $"{where}: the blob has only {total} bytes");
            }

            Stream body = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            byte[] scratch = ArrayPool<byte>.Shared.Rent(SkipBufferSize);
            try
            {
                long remaining = read.Offset;
                while (remaining > 0)
                {
                    int n = await body.ReadAsync(scratch.AsMemory(0, (int)Math.Min(scratch.Length, remaining)), cancellationToken).ConfigureAwait(false);
                    if (n == 0)
                    {
                        throw Truncated(where, content.Headers.ContentLength is null);
                    }

                    remaining -= n;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(scratch);
            }

            await ReadExactlyAsync(body, read.Destination, where, cancellationToken, content.Headers.ContentLength is null).ConfigureAwait(false);
            return true;
        }

        throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{where}: unexpected status {(int)response.StatusCode}") { StatusCode = (int)response.StatusCode };
    }

    private static void ContentRangeHeaderValueCheck(HttpContent content, long first, long last, string where)
    {
        string? raw = content.Headers.TryGetValues("Content-Range", out IEnumerable<string>? values) ? values.FirstOrDefault() : null;
        if (raw is null || !ContentRange.TryParse(raw, out ContentRange range))
        {
            throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{where}: 206 without a valid Content-Range");
        }

        if (range.First != first || range.Last != last)
        {
            // A shorter range that ends at the blob's end means we asked past the end.
            if (range.First == first && range.Length >= 0 && range.Last == range.Length - 1 && range.Last < last)
            {
                throw new RegistryException(RegistryErrorKind.RangeNotSatisfiable, $"{where}: the blob has only {range.Length} bytes");
            }

            throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{where}: the registry answered bytes {range.First}-{range.Last}");
        }
    }

    internal static async ValueTask ReadExactlyAsync(Stream body, Memory<byte> destination, string where, CancellationToken cancellationToken, bool lengthUnknown = false)
    {
        int read = await body.ReadAtLeastAsync(destination, destination.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (read < destination.Length)
        {
            throw Truncated(where, lengthUnknown);
        }
    }

    private static async ValueTask EnsureEndAsync(Stream body, string where, CancellationToken cancellationToken)
    {
        byte[] one = ArrayPool<byte>.Shared.Rent(1);
        try
        {
            if (await body.ReadAsync(one.AsMemory(0, 1), cancellationToken).ConfigureAwait(false) != 0)
            {
                throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{where}: the answer is longer than the range");
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(one);
        }
    }

    private static RegistryException Truncated(string where, bool lengthUnknown) =>
        new(RegistryErrorKind.Unavailable, $"{where}: the answer ended early{(lengthUnknown ? " (no Content-Length)" : "")}");

    private readonly record struct RangeRead(BlobLocator Blob, long Offset, Memory<byte> Destination);
}
