using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using Snapshotter.Rpc.Protocol;

namespace Snapshotter.Rpc.Server;

/// <summary>The single endpoint behind every gRPC path: validates the request, runs the method, sends the status.</summary>
internal sealed class GrpcDispatcher(GrpcServiceRegistry registry, GrpcServerOptions options, ILogger logger, CancellationToken serverStopping)
{
    public async Task HandleAsync(HttpContext httpContext)
    {
        HttpRequest request = httpContext.Request;
        HttpResponse response = httpContext.Response;
        if (!HttpMethods.IsPost(request.Method))
        {
            response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            response.Headers.Allow = "POST";
            return;
        }

        if (!GrpcProtocol.IsGrpcContentType(request.ContentType))
        {
            response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            return;
        }

        if (!HttpProtocol.IsHttp2(request.Protocol))
        {
            // Trailers (and so gRPC status) need HTTP/2.
            response.StatusCode = StatusCodes.Status505HttpVersionNotsupported;
            return;
        }

        // Message limits are enforced by the framing; streams may be long-lived and idle.
        if (httpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } maxBody)
        {
            maxBody.MaxRequestBodySize = null;
        }

        if (httpContext.Features.Get<IHttpMinRequestBodyDataRateFeature>() is { } minRate)
        {
            minRate.MinDataRate = null;
        }

        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = GrpcProtocol.ContentType;
        string path = request.Path.Value ?? string.Empty;

        if (!registry.TryGetMethod(path, out ServerMethod? method))
        {
            WriteStatus(httpContext, messagesWritten: false, StatusCode.Unimplemented, $"unknown method {path}");
            return;
        }

        TimeSpan? timeout = null;
        if (request.Headers.TryGetValue(GrpcTimeout.HeaderName, out StringValues timeoutValue))
        {
            if (!GrpcTimeout.TryParse(timeoutValue.ToString(), out TimeSpan parsed))
            {
                WriteStatus(httpContext, messagesWritten: false, StatusCode.InvalidArgument, $"malformed grpc-timeout '{timeoutValue}'");
                return;
            }

            timeout = parsed;
        }

        DateTimeOffset? deadline = null;
        using CancellationTokenSource? deadlineCts = timeout is { } t ? CreateDeadline(t, out deadline) : null;
        using CancellationTokenSource callCts = CancellationTokenSource.CreateLinkedTokenSource(
            httpContext.RequestAborted,
            options.CancelCallsOnShutdown ? serverStopping : CancellationToken.None,
            deadlineCts?.Token ?? CancellationToken.None);

        var context = new ServerCallContext(path, CollectMetadata(request.Headers), deadline, callCts.Token);
        var call = new GrpcServerCall(httpContext, options, context);
        StatusCode code = StatusCode.OK;
        string detail = string.Empty;
        try
        {
            await method.InvokeAsync(call).ConfigureAwait(false);
        }
        catch (RpcException ex)
        {
            (code, detail) = (ex.StatusCode, ex.Detail);
            Log.CallFailed(logger, path, code, detail);
        }
        catch (Exception ex) when (ex is OperationCanceledException && callCts.IsCancellationRequested)
        {
            (code, detail) = deadlineCts?.IsCancellationRequested == true ? (StatusCode.DeadlineExceeded, "deadline exceeded")
                : options.CancelCallsOnShutdown && serverStopping.IsCancellationRequested && !httpContext.RequestAborted.IsCancellationRequested ? (StatusCode.Unavailable, "server is shutting down")
                : (StatusCode.Cancelled, "call cancelled");
            Log.CallFailed(logger, path, code, detail);
        }
        catch (Exception ex)
        {
            (code, detail) = options.ExceptionMapper is { } mapper ? mapper(ex) : (StatusCode.Unknown, ex.Message);

            // Errors the host mapped to an expected status (NotFound, AlreadyExists...) are routine, not failures.
            if (code is StatusCode.Unknown or StatusCode.Internal or StatusCode.DataLoss)
            {
                Log.HandlerFailed(logger, path, code, ex);
            }
            else
            {
                Log.CallFailed(logger, path, code, detail);
            }
        }

        if (httpContext.RequestAborted.IsCancellationRequested)
        {
            return;
        }

        try
        {
            WriteStatus(httpContext, call.MessagesWritten, code, detail);
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or OperationCanceledException)
        {
            Log.StatusNotSent(logger, path, ex);
        }
    }

    private static CancellationTokenSource? CreateDeadline(TimeSpan timeout, out DateTimeOffset? deadline)
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        deadline = DateTimeOffset.MaxValue - now < timeout ? DateTimeOffset.MaxValue : now + timeout;

        // CancelAfter cannot take more than ~49 days; a deadline that far away never fires in practice.
        return timeout.TotalMilliseconds < int.MaxValue ? new CancellationTokenSource(timeout) : null;
    }

    private static Dictionary<string, string> CollectMetadata(IHeaderDictionary headers)
    {
        var metadata = new Dictionary<string, string>(headers.Count, StringComparer.Ordinal);
        foreach (KeyValuePair<string, StringValues> header in headers)
        {
            if (header.Key.StartsWith(':'))
            {
                continue;
            }

            metadata[header.Key.ToLowerInvariant()] = header.Value.ToString();
        }

        return metadata;
    }

    private static void WriteStatus(HttpContext httpContext, bool messagesWritten, StatusCode code, string detail)
    {
        HttpResponse response = httpContext.Response;
        string status = ((int)code).ToString(CultureInfo.InvariantCulture);
        if (!messagesWritten && !response.HasStarted)
        {
            // Trailers-only: one HEADERS frame carrying :status 200, content-type and the status.
            response.Headers[GrpcProtocol.StatusHeader] = status;
            if (detail.Length > 0)
            {
                response.Headers[GrpcProtocol.MessageHeader] = GrpcStatusMessage.Encode(detail);
            }

            return;
        }

        response.AppendTrailer(GrpcProtocol.StatusHeader, status);
        if (detail.Length > 0)
        {
            response.AppendTrailer(GrpcProtocol.MessageHeader, GrpcStatusMessage.Encode(detail));
        }
    }
}
