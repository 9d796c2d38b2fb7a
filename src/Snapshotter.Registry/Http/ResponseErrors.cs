using System.Globalization;
using System.Net;
using System.Text.Json;

namespace Snapshotter.Registry.Http;

/// <summary>Turns a failed registry answer into a <see cref="RegistryException"/> with the registry's error code.</summary>
internal static class ResponseErrors
{
    private const int MaxErrorBody = 64 * 1024;

    public static async Task<RegistryException> CreateAsync(HttpResponseMessage response, string operation, CancellationToken cancellationToken)
    {
        int status = (int)response.StatusCode;
        (string? code, string? message) = await ReadErrorAsync(response, cancellationToken).ConfigureAwait(false);
        RegistryErrorKind kind = status switch
        {
            401 => RegistryErrorKind.Unauthorized,
            403 => RegistryErrorKind.Denied,
            404 => RegistryErrorKind.NotFound,
            416 => RegistryErrorKind.RangeNotSatisfiable,
            429 => RegistryErrorKind.TooManyRequests,
            408 or >= 500 => RegistryErrorKind.Unavailable,
            >= 400 => code switch
            {
                "BLOB_UNKNOWN" or "MANIFEST_UNKNOWN" or "NAME_UNKNOWN" => RegistryErrorKind.NotFound,
                "DENIED" => RegistryErrorKind.Denied,
                "UNAUTHORIZED" => RegistryErrorKind.Unauthorized,
                "TOOMANYREQUESTS" => RegistryErrorKind.TooManyRequests,
                _ => RegistryErrorKind.Rejected,
            },
            _ => RegistryErrorKind.InvalidResponse,
        };

        string detail = code is null ? "" : $" ({code}{(string.IsNullOrEmpty(message) ? "" : ": " + message)})";
        return new RegistryException(kind, $"{operation}: {status} {response.ReasonPhrase}{detail}")
        {
            StatusCode = status,
            ErrorCode = code,
            RetryAfter = GetRetryAfter(response),
        };
    }

    /// <summary>Reads <c>Retry-After</c> as seconds or an HTTP date.</summary>
    public static TimeSpan? GetRetryAfter(HttpResponseMessage response)
    {
        if (response.Headers.RetryAfter is { } retryAfter)
        {
            if (retryAfter.Delta is { } delta)
            {
                return delta;
            }

            if (retryAfter.Date is { } date)
            {
                TimeSpan wait = date - DateTimeOffset.UtcNow;
                return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
            }
        }

        // Some registries send fractional seconds, which the typed header rejects.
        if (response.Headers.TryGetValues("Retry-After", out IEnumerable<string>? raw)
            && double.TryParse(raw.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) && seconds >= 0)
        {
            return TimeSpan.FromSeconds(seconds);
        }

        return null;
    }

    private static async Task<(string? Code, string? Message)> ReadErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength is > MaxErrorBody)
        {
            return (null, null);
        }

        try
        {
            byte[] body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            if (body.Length is 0 or > MaxErrorBody)
            {
                return (null, null);
            }

            using JsonDocument doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("errors", out JsonElement errors)
                && errors.ValueKind == JsonValueKind.Array
                && errors.GetArrayLength() > 0)
            {
                JsonElement first = errors[0];
                string? code = first.TryGetProperty("code", out JsonElement c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
                string? message = first.TryGetProperty("message", out JsonElement m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
                return (code, message);
            }
        }
        catch (Exception ex) when (ex is JsonException or HttpRequestException or IOException)
        {
            // An unreadable error body still has a status code worth reporting.
        }

        return (null, null);
    }

    /// <summary>True for status codes worth retrying on the same host.</summary>
    public static bool IsTransientStatus(HttpStatusCode status) =>
        status is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout || (int)status >= 500;
}
