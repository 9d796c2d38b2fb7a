using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Snapshotter.Registry.Tests.Infrastructure;

/// <summary>
/// A second loopback host standing in for object storage behind a registry redirect: serves one blob with Range
/// support and records whether any request carried an Authorization header.
/// </summary>
internal sealed class BlobServer : IAsyncDisposable
{
    private readonly byte[] _content;
    private KestrelHost? _host;

    private BlobServer(byte[] content)
    {
        _content = content;
    }

    public Uri BlobUri => new(_host!.BaseUri, "presigned/blob?signature=test");

    public ConcurrentQueue<(string? Authorization, string? Range)> Requests { get; } = new();

    /// <summary>When set, answers 403 (an expired presigned URL).</summary>
    public bool Expired { get; set; }

    /// <summary>When set, sends half of each body and then drops the connection.</summary>
    public bool Truncate { get; set; }

    public static async Task<BlobServer> StartAsync(byte[] content)
    {
        var server = new BlobServer(content);
        server._host = await KestrelHost.StartAsync(server.HandleAsync);
        return server;
    }

    private async Task HandleAsync(HttpContext context)
    {
        string? authorization = context.Request.Headers.Authorization.Count > 0 ? context.Request.Headers.Authorization.ToString() : null;
        string? rangeHeader = context.Request.Headers.Range.Count > 0 ? context.Request.Headers.Range.ToString() : null;
        Requests.Enqueue((authorization, rangeHeader));
        if (Expired)
        {
            context.Response.StatusCode = 403;
            return;
        }

        if (rangeHeader is not null && RangeHeaderValue.TryParse(rangeHeader, out RangeHeaderValue? range) && range.Ranges.Count == 1)
        {
            RangeItemHeaderValue item = range.Ranges.First();
            long from = item.From!.Value;
            long to = Math.Min(item.To ?? _content.Length - 1, _content.Length - 1);
            context.Response.StatusCode = 206;
            context.Response.Headers.ContentRange = $"bytes {from}-{to}/{_content.Length}";
            context.Response.ContentLength = to - from + 1;
            if (Truncate)
            {
                await context.Response.Body.WriteAsync(_content.AsMemory((int)from, (int)(to - from + 1) / 2));
                await context.Response.Body.FlushAsync();
                context.Abort();
                return;
            }

            await context.Response.Body.WriteAsync(_content.AsMemory((int)from, (int)(to - from + 1)));
            return;
        }

        context.Response.ContentLength = _content.Length;
        await context.Response.Body.WriteAsync(_content);
    }

    public async ValueTask DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
    }
}
