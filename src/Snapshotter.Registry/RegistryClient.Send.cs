using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Authentication;
using Snapshotter.Registry.Hosts;
using Snapshotter.Registry.Http;

namespace Snapshotter.Registry;

public sealed partial class RegistryClient
{
    private const int MaxRedirects = 5;

    /// <summary>
    /// Runs one operation: picks hosts (mirrors, then origin), authenticates, follows redirects, retries transient
    /// failures with backoff, and hands a successful response to <paramref name="onSuccess"/> inside the attempt's
    /// timeout, so body reads are retried too. The response is disposed afterwards unless <paramref name="keepResponse"/>.
    /// </summary>
    /// <remarks>
    /// A hand-written loop, not Polly: a Polly.Core 8.8.1 pipeline (retry + attempt timeout; trial commit cba6982)
    /// passed the same 189 tests but took 168 code lines against this loop's 154, since host
    /// failover, error classification, redirect-cache invalidation and the last-error/overall-timeout messages stay
    /// hand-written either way, and it could not stop early when the next backoff would overrun the overall timeout.
    /// </remarks>
    private async Task<TResult> ExecuteAsync<TState, TResult>(
        ImageReference repository,
        RequestSpec spec,
        TState state,
        Func<HttpResponseMessage, TState, CancellationToken, ValueTask<TResult>> onSuccess,
        bool keepResponse,
        CancellationToken cancellationToken)
    {
        IReadOnlyList<RegistryHost> hosts = spec.FixedHost is { } fixedHost ? [fixedHost] : SelectHosts(repository, spec.Capability);
        using var overall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        overall.CancelAfter(_options.OverallTimeout);
        long started = Stopwatch.GetTimestamp();
        RegistryException? last = null;
        for (int h = 0; h < hosts.Count; h++)
        {
            RegistryHost host = hosts[h];
            for (int attempt = 0; ; attempt++)
            {
                var call = new Attempt<TState, TResult>(host, spec, state, onSuccess, keepResponse);
                (bool succeeded, TResult result, RegistryException? error, bool retryable) =
                    await AttemptAsync(call, overall, last, cancellationToken).ConfigureAwait(false);
                if (succeeded)
                {
                    return result;
                }

                last = error!;

                // A cached redirect target is used until it fails; any failed attempt sends the next one to the registry.
                if (spec.RedirectCacheKey is { } redirectKey)
                {
                    _redirects.TryRemove(redirectKey, out _);
                }

                TimeSpan? delay = retryable && spec.Idempotent && attempt < _options.MaxRetries ? RetryDelay(attempt, last, started) : null;
                if (delay is null)
                {
                    break;
                }

                Log.Retrying(_logger, spec.Operation, host.Authority, (long)delay.Value.TotalMilliseconds, attempt + 1, last.Message);
                try
                {
                    await Task.Delay(delay.Value, overall.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new RegistryException(RegistryErrorKind.Timeout, $"{spec.Operation}: no answer within the overall timeout of {_options.OverallTimeout.TotalSeconds:0.###} s; last error: {last.Message}", last);
                }
            }

            if (h < hosts.Count - 1 && last!.Kind is not RegistryErrorKind.RangeNotSatisfiable)
            {
                Log.HostFailed(_logger, spec.Operation, host.Authority, last.Message);
                continue;
            }

            break;
        }

        throw last!;
    }

    /// <summary>
    /// One attempt within its own timeout: a success is handed to the operation's <c>onSuccess</c>; a failure comes
    /// back classified (transient or not) unless the caller cancelled or the overall timeout passed, which throw.
    /// </summary>
    private async Task<(bool Succeeded, TResult Result, RegistryException? Error, bool Retryable)> AttemptAsync<TState, TResult>(
        Attempt<TState, TResult> call,
        CancellationTokenSource overall,
        RegistryException? last,
        CancellationToken cancellationToken)
    {
        (RegistryHost host, RequestSpec spec) = (call.Host, call.Spec);
        using var attemptCts = CancellationTokenSource.CreateLinkedTokenSource(overall.Token);
        attemptCts.CancelAfter(_options.AttemptTimeout);
        HttpResponseMessage? response = null;
        bool kept = false;
        try
        {
            response = await SendAsync(host, spec, attemptCts.Token).ConfigureAwait(false);
            int status = (int)response.StatusCode;
            if (status is >= 200 and < 300 || status == spec.AlsoAccept)
            {
                TResult result = await call.OnSuccess(response, call.State, attemptCts.Token).ConfigureAwait(false);
                kept = call.KeepResponse;
                return (true, result, null, false);
            }

            throw await ResponseErrors.CreateAsync(response, $"{spec.Operation} on {host.Authority}", attemptCts.Token).ConfigureAwait(false);
        }
        catch (RegistryException ex)
        {
            return (false, default!, ex, ex.IsTransient);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException ex) when (overall.IsCancellationRequested)
        {
            throw new RegistryException(RegistryErrorKind.Timeout, $"{spec.Operation}: no answer within the overall timeout of {_options.OverallTimeout.TotalSeconds:0.###} s{(last is null ? "" : "; last error: " + last.Message)}", last ?? (Exception)ex);
        }
        catch (OperationCanceledException ex) when (attemptCts.IsCancellationRequested)
        {
            return (false, default!, new RegistryException(RegistryErrorKind.Timeout, $"{spec.Operation} on {host.Authority}: no complete answer within {_options.AttemptTimeout.TotalSeconds:0.###} s", ex), true);
        }
        catch (HttpRequestException ex) when (ex.InnerException is AuthenticationException || ex.HttpRequestError == HttpRequestError.SecureConnectionError)
        {
            return (false, default!, new RegistryException(RegistryErrorKind.Unavailable, $"{spec.Operation} on {host.Authority}: TLS handshake failed (is the registry's CA configured in hosts.toml, or is it plain HTTP?)", ex), false);
        }
        catch (HttpRequestException ex)
        {
            return (false, default!, new RegistryException(RegistryErrorKind.Unavailable, $"{spec.Operation} on {host.Authority}: {ex.HttpRequestError}: {ex.Message}{(ex.InnerException is { } inner ? " (" + inner.Message + ")" : "")}", ex), true);
        }
        catch (IOException ex)
        {
            return (false, default!, new RegistryException(RegistryErrorKind.Unavailable, $"{spec.Operation} on {host.Authority}: the connection broke while reading the answer: {ex.Message}", ex), true);
        }
        finally
        {
            if (!kept)
            {
                response?.Dispose();
            }
        }
    }

    /// <summary>
    /// The wait before the next attempt, or null when none fits: a Retry-After beyond
    /// <see cref="RegistryClientOptions.RetryMaxDelay"/> (waiting longer than we allow ourselves would only hide the
    /// rate limit from the caller), or the overall timeout would pass during the wait.
    /// </summary>
    private TimeSpan? RetryDelay(int attempt, RegistryException last, long started)
    {
        TimeSpan delay = Backoff(attempt);
        if (last.RetryAfter is { } retryAfter)
        {
            if (retryAfter > _options.RetryMaxDelay)
            {
                return null;
            }

            delay = retryAfter > delay ? retryAfter : delay;
        }

        return Stopwatch.GetElapsedTime(started) + delay >= _options.OverallTimeout ? null : delay;
    }

    private IReadOnlyList<RegistryHost> SelectHosts(ImageReference repository, HostCapabilities capability)
    {
        IReadOnlyList<RegistryHost> all = _hosts.GetHosts(repository.Registry);
        int count = 0;
        foreach (RegistryHost host in all)
        {
            if ((host.Capabilities & capability) != 0)
            {
                count++;
            }
        }

        if (count == all.Count)
        {
            return all;
        }

        if (count == 0)
        {
            throw new RegistryException(RegistryErrorKind.InvalidReference, $"no host configured for {repository.Registry} has the {capability.ToString().ToLowerInvariant()} capability");
        }

        return [.. all.Where(h => (h.Capabilities & capability) != 0)];
    }

    private TimeSpan Backoff(int attempt)
    {
        double max = _options.RetryMaxDelay.TotalMilliseconds;
        double exponential = Math.Min(max, _options.RetryBaseDelay.TotalMilliseconds * Math.Pow(2, attempt));

        // "Equal jitter": half fixed, half random, so retries of concurrent readers spread out.
        return TimeSpan.FromMilliseconds((exponential / 2) + (Random.Shared.NextDouble() * exponential / 2));
    }

    /// <summary>Sends one request to one host: cached redirect target first, then the registry with auth and redirects.</summary>
    private async Task<HttpResponseMessage> SendAsync(RegistryHost host, RequestSpec spec, CancellationToken cancellationToken)
    {
        if (spec.RedirectCacheKey is { } key && _redirects.TryGetValue(key, out Uri? cached))
        {
            HttpResponseMessage? direct = await TrySendToCachedRedirectAsync(spec, key, cached, cancellationToken).ConfigureAwait(false);
            if (direct is not null)
            {
                return direct;
            }
        }

        Uri uri = spec.AbsoluteUri ?? new Uri(host.BaseUri, spec.Path);
        if (!IsSameOrigin(uri, host))
        {
            // An upload Location on another host gets neither the registry's credentials nor its headers.
            return await _pool.Default.SendAsync(BuildRequest(spec, uri, null, null), cancellationToken).ConfigureAwait(false);
        }

        AuthenticationHeaderValue? authorization = await _auth.GetAuthorizationAsync(host, spec.Scope, cancellationToken).ConfigureAwait(false);
        HttpMessageInvoker invoker = _pool.Get(host);
        HttpResponseMessage response = await invoker.SendAsync(BuildRequest(spec, uri, authorization, host), cancellationToken).ConfigureAwait(false);

        // One retry with a fresh token after a 401; an anonymous first try is only the handshake and does not count.
        int authRetries = authorization is null ? 2 : 1;
        while (response.StatusCode == HttpStatusCode.Unauthorized && authRetries-- > 0)
        {
            AuthenticationHeaderValue? fresh = await _auth.OnUnauthorizedAsync(host, spec.Scope, response.Headers, authorization, cancellationToken).ConfigureAwait(false);
            if (fresh is null)
            {
                break;
            }

            response.Dispose();
            authorization = fresh;
            response = await invoker.SendAsync(BuildRequest(spec, uri, authorization, host), cancellationToken).ConfigureAwait(false);
        }

        return await FollowRedirectsAsync(host, spec, uri, invoker, authorization, response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The cached redirect target's answer when it succeeds; otherwise null, and the target is forgotten.</summary>
    private async Task<HttpResponseMessage?> TrySendToCachedRedirectAsync(RequestSpec spec, string key, Uri cached, CancellationToken cancellationToken)
    {
        HttpResponseMessage? direct = null;
        try
        {
            direct = await _pool.Default.SendAsync(BuildRequest(spec, cached, null, null), cancellationToken).ConfigureAwait(false);
            if (direct.IsSuccessStatusCode)
            {
                return direct;
            }

            Log.RedirectTargetFailed(_logger, key, ((int)direct.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture));
            direct.Dispose();
        }
        catch (HttpRequestException ex)
        {
            direct?.Dispose();
            Log.RedirectTargetFailed(_logger, key, ex.Message);
        }
        catch
        {
            direct?.Dispose();
            _redirects.TryRemove(new KeyValuePair<string, Uri>(key, cached));
            throw;
        }

        _redirects.TryRemove(new KeyValuePair<string, Uri>(key, cached));
        return null;
    }

    /// <summary>Follows up to <see cref="MaxRedirects"/> redirects; a cross-origin target of a cacheable request is remembered.</summary>
    private async Task<HttpResponseMessage> FollowRedirectsAsync(
        RegistryHost host,
        RequestSpec spec,
        Uri uri,
        HttpMessageInvoker invoker,
        AuthenticationHeaderValue? authorization,
        HttpResponseMessage response,
        CancellationToken cancellationToken)
    {
        for (int hop = 0; IsRedirect(response.StatusCode) && response.Headers.Location is { } location; hop++)
        {
            if (hop == MaxRedirects)
            {
                response.Dispose();
                throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{spec.Operation} on {host.Authority}: more than {MaxRedirects} redirects");
            }

            Uri target = location.IsAbsoluteUri ? location : new Uri(uri, location);
            if (target.Scheme != Uri.UriSchemeHttp && target.Scheme != Uri.UriSchemeHttps)
            {
                response.Dispose();
                throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{spec.Operation} on {host.Authority}: redirect to a non-HTTP URL");
            }

            bool sameOrigin = IsSameOrigin(target, host);
            Log.Redirected(_logger, (int)response.StatusCode, spec.Operation, target.Authority);
            response.Dispose();
            uri = target;

            // The registry's credentials stay with the registry: object storage gets a presigned URL, no Authorization.
            response = sameOrigin
                ? await invoker.SendAsync(BuildRequest(spec, uri, authorization, host), cancellationToken).ConfigureAwait(false)
                : await _pool.Default.SendAsync(BuildRequest(spec, uri, null, null), cancellationToken).ConfigureAwait(false);
            if (!sameOrigin && spec.RedirectCacheKey is { } cacheKey && response.IsSuccessStatusCode)
            {
                _redirects[cacheKey] = uri;
            }
        }

        return response;
    }

    /// <summary>What one attempt of an operation needs (kept together so the attempt's signature stays short).</summary>
    private readonly record struct Attempt<TState, TResult>(
        RegistryHost Host,
        RequestSpec Spec,
        TState State,
        Func<HttpResponseMessage, TState, CancellationToken, ValueTask<TResult>> OnSuccess,
        bool KeepResponse);

    private static bool IsSameOrigin(Uri uri, RegistryHost host) =>
        Uri.Compare(uri, host.BaseUri, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0;

    private static bool IsRedirect(HttpStatusCode status) =>
        status is HttpStatusCode.MovedPermanently or HttpStatusCode.Found or HttpStatusCode.SeeOther or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;

    private HttpRequestMessage BuildRequest(RequestSpec spec, Uri uri, AuthenticationHeaderValue? authorization, RegistryHost? host)
    {
        var request = new HttpRequestMessage(spec.Method, uri)
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };

        HttpRequestHeaders headers = request.Headers;
        headers.TryAddWithoutValidation("User-Agent", _options.UserAgent);
        if (spec.Accept is not null)
        {
            headers.TryAddWithoutValidation("Accept", spec.Accept);
        }

        if (spec.RangeFrom >= 0)
        {
            headers.Range = new RangeHeaderValue(spec.RangeFrom, spec.RangeTo >= 0 ? spec.RangeTo : null);
        }

        if (authorization is not null)
        {
            headers.Authorization = authorization;
        }

        if (host is not null)
        {
            foreach ((string name, string value) in host.Headers)
            {
                headers.TryAddWithoutValidation(name, value);
            }
        }

        if (spec.Content is { } content)
        {
            request.Content = new ReadOnlyMemoryContent(content);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(spec.ContentType ?? "application/octet-stream");
            if (spec.UploadContentRange is { } uploadRange)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Range", uploadRange);
            }
        }
        else if (spec.Method == HttpMethod.Put || spec.Method == HttpMethod.Post || spec.Method == HttpMethod.Patch)
        {
            request.Content = new ReadOnlyMemoryContent(ReadOnlyMemory<byte>.Empty);
        }

        return request;
    }
}
