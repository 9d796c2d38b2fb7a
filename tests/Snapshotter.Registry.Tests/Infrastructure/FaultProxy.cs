using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Snapshotter.Registry.Tests.Infrastructure;

/// <summary>
/// A loopback HTTP proxy in front of a registry that injects queued faults into matching requests and records
/// what it saw. Everything else is forwarded unchanged (headers, status, body).
/// </summary>
internal sealed class FaultProxy : IAsyncDisposable
{
    private static readonly HashSet<string> HopHeaders = new(StringComparer.OrdinalIgnoreCase) { "Host", "Connection", "Transfer-Encoding", "Keep-Alive", "Upgrade", "Proxy-Connection" };
    private readonly Uri _upstream;
    private readonly HttpClient _client;
    private readonly ConcurrentQueue<Fault> _faults = new();
    private KestrelHost? _host;

    private FaultProxy(Uri upstream)
    {
        _upstream = upstream;
        _client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false, AutomaticDecompression = System.Net.DecompressionMethods.None });
    }

    /// <summary>host:port to put in image references.</summary>
    public string Host => _host!.Authority;

    /// <summary>Every request seen: method, path and query, whether it carried Authorization, the fault applied.</summary>
    public ConcurrentQueue<(string Method, string Path, bool HadAuthorization, FaultKind? Fault)> Seen { get; } = new();

    /// <summary>Values of the <c>X-Test</c> header per request (hosts.toml <c>header</c> checks).</summary>
    public ConcurrentQueue<string> TestHeaders { get; } = new();

    public static async Task<FaultProxy> StartAsync(Uri upstream)
    {
        var proxy = new FaultProxy(upstream);
        proxy._host = await KestrelHost.StartAsync(proxy.HandleAsync);
        return proxy;
    }

    public void Enqueue(Fault fault, int times = 1)
    {
        for (int i = 0; i < times; i++)
        {
            _faults.Enqueue(fault);
        }
    }

    public int PendingFaults => _faults.Count;

    public int Count(Func<(string Method, string Path, bool HadAuthorization, FaultKind? Fault), bool> predicate) => Seen.Count(predicate);

    private Fault? TakeFault(HttpRequest request)
    {
        if (_faults.TryPeek(out Fault? fault) && fault.Matches(request) && _faults.TryDequeue(out fault))
        {
            return fault;
        }

        return null;
    }

    private async Task HandleAsync(HttpContext context)
    {
        HttpRequest request = context.Request;
        Fault? fault = TakeFault(request);
        if (request.Headers.TryGetValue("X-Test", out Microsoft.Extensions.Primitives.StringValues testHeader))
        {
            TestHeaders.Enqueue(testHeader.ToString());
        }

        Seen.Enqueue((request.Method, request.Path + request.QueryString, request.Headers.ContainsKey("Authorization"), fault?.Kind));
        switch (fault?.Kind)
        {
            case FaultKind.Status:
                context.Response.StatusCode = fault.Status;
                if (fault.RetryAfter is not null)
                {
                    context.Response.Headers.RetryAfter = fault.RetryAfter;
                }

                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync("{\"errors\":[{\"code\":\"" + (fault.Status == 429 ? "TOOMANYREQUESTS" : "UNAVAILABLE") + "\",\"message\":\"injected\"}]}");
                return;
            case FaultKind.Reset:
                context.Abort();
                return;
            case FaultKind.Redirect:
                context.Response.StatusCode = 307;
                context.Response.Headers.Location = fault.Location!.ToString();
                return;
        }

        using var upstreamRequest = new HttpRequestMessage(new HttpMethod(request.Method), new Uri(_upstream, request.Path + request.QueryString));
        foreach ((string name, Microsoft.Extensions.Primitives.StringValues values) in request.Headers)
        {
            if (HopHeaders.Contains(name) || name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase)
                || (fault?.Kind == FaultKind.IgnoreRange && name == "Range")
                || (fault?.Kind == FaultKind.DropAuthorization && name == "Authorization"))
            {
                continue;
            }

            upstreamRequest.Headers.TryAddWithoutValidation(name, values.ToArray());
        }

        // Keep the client's Host so the registry's Location headers point back at the proxy.
        upstreamRequest.Headers.Host = request.Host.Value;
        if (request.ContentLength > 0 || request.Headers.ContainsKey("Transfer-Encoding") || HttpMethods.IsPut(request.Method) || HttpMethods.IsPatch(request.Method) || HttpMethods.IsPost(request.Method))
        {
            var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            upstreamRequest.Content = new ByteArrayContent(body.ToArray());
            foreach ((string name, Microsoft.Extensions.Primitives.StringValues values) in request.Headers)
            {
                if (name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase) && name != "Content-Length")
                {
                    upstreamRequest.Content.Headers.TryAddWithoutValidation(name, values.ToArray());
                }
            }
        }

        using HttpResponseMessage upstreamResponse = await _client.SendAsync(upstreamRequest, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        byte[] payload = await upstreamResponse.Content.ReadAsByteArrayAsync(context.RequestAborted);
        context.Response.StatusCode = (int)upstreamResponse.StatusCode;
        foreach ((string name, IEnumerable<string> values) in upstreamResponse.Headers.Concat(upstreamResponse.Content.Headers))
        {
            if (!HopHeaders.Contains(name))
            {
                context.Response.Headers[name] = values.ToArray();
            }
        }

        switch (fault?.Kind)
        {
            case FaultKind.TruncateBody:
                context.Response.ContentLength = payload.Length;
                await context.Response.Body.WriteAsync(payload.AsMemory(0, payload.Length / 2));
                await context.Response.Body.FlushAsync();
                context.Abort();
                return;
            case FaultKind.StallBody:
                context.Response.ContentLength = payload.Length;
                await context.Response.Body.WriteAsync(payload.AsMemory(0, Math.Min(16, payload.Length)));
                await context.Response.Body.FlushAsync();
                try
                {
                    await Task.Delay(Timeout.Infinite, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                }

                return;
            case FaultKind.Multipart when upstreamResponse.StatusCode == System.Net.HttpStatusCode.PartialContent:
                string contentRange = context.Response.Headers.ContentRange.ToString();
                const string boundary = "3d6b6a416f9b5";
                var multipart = new MemoryStream();
                byte[] head = Encoding.ASCII.GetBytes($"--{boundary}\r\nContent-Type: application/octet-stream\r\nContent-Range: {contentRange}\r\n\r\n");
                multipart.Write(head);
                multipart.Write(payload);
                multipart.Write(Encoding.ASCII.GetBytes($"\r\n--{boundary}--\r\n"));
                context.Response.Headers.Remove("Content-Range");
                context.Response.ContentType = $"multipart/byteranges; boundary={boundary}";
                context.Response.ContentLength = multipart.Length;
                await context.Response.Body.WriteAsync(multipart.ToArray());
                return;
            case FaultKind.WrongContentRange when upstreamResponse.StatusCode == System.Net.HttpStatusCode.PartialContent:
                System.Net.Http.Headers.ContentRangeHeaderValue range = upstreamResponse.Content.Headers.ContentRange!;
                context.Response.Headers.ContentRange = $"bytes {range.From + 1}-{range.To + 1}/{range.Length}";
                break;
            case FaultKind.CorruptBody when payload.Length > 0:
                payload[payload.Length / 2] ^= 0xFF;
                break;
        }

        context.Response.ContentLength = payload.Length;
        if (!HttpMethods.IsHead(request.Method))
        {
            await context.Response.Body.WriteAsync(payload);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        _client.Dispose();
    }
}
