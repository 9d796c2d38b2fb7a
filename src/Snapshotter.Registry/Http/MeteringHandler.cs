using System.Net;
using Snapshotter.Telemetry;

namespace Snapshotter.Registry.Http;

/// <summary>
/// Counts every registry answer by status class (and requests that got none) and every body byte read, for the
/// service's metrics; sits in front of each connection pool, so auth round trips, redirects and retries all count.
/// </summary>
internal sealed class MeteringHandler(HttpMessageHandler inner, SnapshotterMetrics metrics) : DelegatingHandler(inner)
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Connection refused or reset, TLS failure, a timeout or cancellation: no answer came.
            metrics.RecordRegistryResponse(0);
            throw;
        }

        metrics.RecordRegistryResponse((int)response.StatusCode);
        if (request.Method != HttpMethod.Head && response.StatusCode != HttpStatusCode.NoContent)
        {
            var original = response.Content;
            var counted = new StreamContent(new CountingStream(await original.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), metrics));
            foreach (var header in original.Headers)
            {
                counted.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }

            response.Content = counted;
        }

        return response;
    }
}
