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
            Path = blob.Path,
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
    /// (or <paramref name="expectedSize"/>, when given). Each read must progress within
    /// <see cref="RegistryClientOptions.AttemptTimeout"/>; when the connection breaks or stalls mid-body the stream
    /// resumes with a range request from where it stopped (up to <see cref="RegistryClientOptions.MaxRetries"/> times).
    /// </summary>
    public async Task<Stream> OpenBlobAsync(BlobLocator blob, long? expectedSize = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(blob);
        (HttpResponseMessage response, Stream body) = await OpenBlobAtAsync(blob, 0, cancellationToken).ConfigureAwait(false);
        long? length = response.Content.Headers.ContentLength;
        if (expectedSize is { } size && length is { } l && l != size)
        {
            response.Dispose();
            throw new RegistryException(RegistryErrorKind.DigestMismatch, $"GET blob {blob}: the registry serves {l} bytes but the descriptor says {size}");
        }

        return new VerifyingStream(response, body, blob, expectedSize ?? length, _options.AttemptTimeout, _options.MaxRetries, (offset, ct) => OpenBlobAtAsync(blob, offset, ct));
    }

    /// <summary>Opens the blob from <paramref name="offset"/> to its end: 200 for offset 0, else a 206 starting exactly there.</summary>
    private Task<(HttpResponseMessage Response, Stream Body)> OpenBlobAtAsync(BlobLocator blob, long offset, CancellationToken cancellationToken)
    {
        var spec = new RequestSpec
        {
            Method = HttpMethod.Get,
            Path = blob.Path,
            Scope = PullScope(blob.Repository),
            Capability = HostCapabilities.Pull,
            Operation = offset == 0 ? $"GET blob {blob}" : $"GET blob {blob} from byte {offset}",
            RangeFrom = offset == 0 ? -1 : offset,
            RedirectCacheKey = blob.CacheKey,
        };

        return ExecuteAsync(
            blob.Repository,
            spec,
            (Blob: blob, Offset: offset),
            static async (response, state, ct) =>
            {
                Stream body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    // Whole blob (first open, or a server that ignores Range on resume): skip to the offset.
                    await SkipAsync(body, state.Offset, $"GET blob {state.Blob}", ct).ConfigureAwait(false);
                    return (response, body);
                }

                string? raw = response.Content.Headers.TryGetValues("Content-Range", out IEnumerable<string>? values) ? values.FirstOrDefault() : null;
                if (state.Offset > 0 && response.StatusCode == HttpStatusCode.PartialContent && raw is not null
                    && ContentRange.TryParse(raw, out ContentRange range) && range.First == state.Offset && (range.Length < 0 || range.Last == range.Length - 1))
                {
                    return (response, body);
                }

                throw new RegistryException(RegistryErrorKind.InvalidResponse, $"GET blob {state.Blob}: unexpected {(int)response.StatusCode} {raw} for bytes {state.Offset}-");
            },
            keepResponse: true,
            cancellationToken);
    }

    private static async ValueTask SkipAsync(Stream body, long count, string where, CancellationToken cancellationToken)
    {
        if (count == 0)
        {
            return;
        }

        byte[] scratch = ArrayPool<byte>.Shared.Rent(SkipBufferSize);
        try
        {
            while (count > 0)
            {
                int n = await body.ReadAsync(scratch.AsMemory(0, (int)Math.Min(scratch.Length, count)), cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    throw Truncated(where, lengthUnknown: false);
                }

                count -= n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
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
            await SkipAsync(body, read.Offset, where, cancellationToken).ConfigureAwait(false);
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
