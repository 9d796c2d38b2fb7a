using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Snapshotter.Registry.Hosts;
using Snapshotter.Registry.Http;

namespace Snapshotter.Registry.Auth;

/// <summary>
/// Turns registry challenges into <c>Authorization</c> values: remembers each host's challenge, fetches bearer
/// tokens (anonymous, Basic, or OAuth2 refresh token) and caches them per (host, scope) until <c>expires_in</c>.
/// Concurrent requests for the same token share one fetch.
/// </summary>
internal sealed class Authenticator
{
    private static readonly TimeSpan DefaultTokenLifetime = TimeSpan.FromSeconds(60);
    private readonly DockerCredentialStore _credentials;
    private readonly HttpPool _pool;
    private readonly RegistryClientOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, AuthChallenge> _challenges = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CachedToken> _tokens = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<CachedToken>>> _inflight = new(StringComparer.Ordinal);

    public Authenticator(DockerCredentialStore credentials, HttpPool pool, RegistryClientOptions options, ILogger logger, TimeProvider? time = null)
    {
        _credentials = credentials;
        _pool = pool;
        _options = options;
        _logger = logger;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The header to send before any challenge is known for this request, or null to go anonymous.</summary>
    public async ValueTask<AuthenticationHeaderValue?> GetAuthorizationAsync(RegistryHost host, string scope, CancellationToken cancellationToken)
    {
        if (!_challenges.TryGetValue(host.Authority, out AuthChallenge? challenge))
        {
            return null;
        }

        if (challenge.IsBasic)
        {
            RegistryCredential? credential = await _credentials.GetAsync(host.Authority, cancellationToken).ConfigureAwait(false);
            return credential is { HasPassword: true } ? new AuthenticationHeaderValue("Basic", credential.BasicHeaderValue()) : null;
        }

        string key = host.Authority + "|" + scope;
        if (_tokens.TryGetValue(key, out CachedToken? token) && token.RefreshAt > _time.GetUtcNow())
        {
            return new AuthenticationHeaderValue("Bearer", token.Value);
        }

        token = await FetchTokenSharedAsync(host, challenge, scope, key, cancellationToken).ConfigureAwait(false);
        return new AuthenticationHeaderValue("Bearer", token.Value);
    }

    /// <summary>
    /// Handles a 401: learns the challenge, drops the token that failed and returns a fresh header, or null when
    /// there is nothing new to try (the caller then reports <see cref="RegistryErrorKind.Unauthorized"/>).
    /// </summary>
    public async ValueTask<AuthenticationHeaderValue?> OnUnauthorizedAsync(RegistryHost host, string scope, HttpResponseHeaders headers, AuthenticationHeaderValue? failed, CancellationToken cancellationToken)
    {
        List<AuthChallenge> challenges = AuthChallenge.Parse(headers.TryGetValues("WWW-Authenticate", out IEnumerable<string>? values) ? values : []);
        AuthChallenge? challenge = challenges.FirstOrDefault(c => c.IsBearer && !string.IsNullOrEmpty(c.Realm)) ?? challenges.FirstOrDefault(c => c.IsBasic);
        if (challenge is null)
        {
            return null;
        }

        _challenges[host.Authority] = challenge;
        if (challenge.IsBasic)
        {
            if (failed?.Scheme == "Basic")
            {
                return null;
            }

            RegistryCredential? credential = await _credentials.GetAsync(host.Authority, cancellationToken).ConfigureAwait(false);
            return credential is { HasPassword: true } ? new AuthenticationHeaderValue("Basic", credential.BasicHeaderValue()) : null;
        }

        // The registry may ask for more than we guessed (e.g. a mount's source repository): ask for both.
        string wanted = scope;
        if (!string.IsNullOrEmpty(challenge.Scope) && !scope.Split(' ').Contains(challenge.Scope))
        {
            wanted = scope + " " + challenge.Scope;
        }

        string key = host.Authority + "|" + scope;
        _tokens.TryRemove(key, out _);
        CachedToken token = await FetchTokenSharedAsync(host, challenge, wanted, key, cancellationToken).ConfigureAwait(false);
        if (failed is not null && failed.Scheme == "Bearer" && failed.Parameter == token.Value)
        {
            // The issuer handed back the token the registry just refused; retrying with it is pointless.
            return null;
        }

        return new AuthenticationHeaderValue("Bearer", token.Value);
    }

    private async Task<CachedToken> FetchTokenSharedAsync(RegistryHost host, AuthChallenge challenge, string scope, string key, CancellationToken cancellationToken)
    {
        var lazy = new Lazy<Task<CachedToken>>(() => FetchTokenAsync(host, challenge, scope, key));
        Lazy<Task<CachedToken>> shared = _inflight.GetOrAdd(key, lazy);
        try
        {
            return await shared.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (shared.Value.IsCompleted)
            {
                _inflight.TryRemove(new KeyValuePair<string, Lazy<Task<CachedToken>>>(key, shared));
            }
        }
    }

    private async Task<CachedToken> FetchTokenAsync(RegistryHost host, AuthChallenge challenge, string scope, string key)
    {
        // Not tied to one caller's token: a shared fetch must not fail because the first waiter gave up.
        using var timeout = new CancellationTokenSource(_options.AttemptTimeout);
        CancellationToken cancellationToken = timeout.Token;
        if (!Uri.TryCreate(challenge.Realm, UriKind.Absolute, out Uri? realm) || (realm.Scheme != "https" && realm.Scheme != "http"))
        {
            throw new RegistryException(RegistryErrorKind.InvalidResponse, $"registry {host.Authority} sent a bearer challenge without a valid realm URL");
        }

        RegistryCredential? credential = await _credentials.GetAsync(host.Authority, cancellationToken).ConfigureAwait(false);
        string[] scopes = scope.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        using HttpRequestMessage request = new();
        request.Headers.UserAgent.ParseAdd(_options.UserAgent);
        if (credential?.IdentityToken is { } refreshToken)
        {
            // OAuth2 refresh-token grant (docker's identitytoken), per the distribution token spec.
            request.Method = HttpMethod.Post;
            request.RequestUri = realm;
            var form = new List<KeyValuePair<string, string>>
            {
                new("grant_type", "refresh_token"),
                new("refresh_token", refreshToken),
                new("client_id", "snapshotter"),
            };
            if (challenge.Service is { } service)
            {
                form.Add(new("service", service));
            }

            if (scopes.Length > 0)
            {
                form.Add(new("scope", string.Join(' ', scopes)));
            }

            request.Content = new FormUrlEncodedContent(form);
        }
        else
        {
            var query = new System.Text.StringBuilder(realm.Query.Length > 1 ? realm.Query[1..] + "&" : "");
            if (challenge.Service is { } service)
            {
                query.Append("service=").Append(Uri.EscapeDataString(service)).Append('&');
            }

            foreach (string s in scopes)
            {
                query.Append("scope=").Append(Uri.EscapeDataString(s)).Append('&');
            }

            request.Method = HttpMethod.Get;
            request.RequestUri = new UriBuilder(realm) { Query = query.ToString().TrimEnd('&') }.Uri;
            if (credential is { HasPassword: true })
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic", credential.BasicHeaderValue());
            }
        }

        HttpResponseMessage response;
        try
        {
            response = await _pool.Get(host).SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            throw new RegistryException(RegistryErrorKind.Unavailable, $"token service {realm.Authority} for {host.Authority} is unreachable: {ex.GetType().Name}", ex is HttpRequestException ? ex : null);
        }

        using (response)
        {
            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                throw new RegistryException(RegistryErrorKind.Unauthorized, $"token service {realm.Authority} refused {(credential is null ? "anonymous access" : "the configured credentials")} for {host.Authority} ({(int)response.StatusCode})") { StatusCode = (int)response.StatusCode };
            }

            if (!response.IsSuccessStatusCode)
            {
                RegistryErrorKind kind = (int)response.StatusCode >= 500 || response.StatusCode == HttpStatusCode.TooManyRequests ? RegistryErrorKind.Unavailable : RegistryErrorKind.Unauthorized;
                throw new RegistryException(kind, $"token service {realm.Authority} for {host.Authority} answered {(int)response.StatusCode}") { StatusCode = (int)response.StatusCode };
            }

            string? value;
            long expiresIn;
            try
            {
                byte[] body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
                using JsonDocument doc = JsonDocument.Parse(body);
                JsonElement root = doc.RootElement;
                value = root.TryGetProperty("token", out JsonElement t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
                if (string.IsNullOrEmpty(value) && root.TryGetProperty("access_token", out JsonElement at) && at.ValueKind == JsonValueKind.String)
                {
                    value = at.GetString();
                }

                expiresIn = root.TryGetProperty("expires_in", out JsonElement e) && e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out long seconds) ? seconds : 0;
            }
            catch (JsonException)
            {
                throw new RegistryException(RegistryErrorKind.InvalidResponse, $"token service {realm.Authority} for {host.Authority} answered something that is not JSON");
            }

            if (string.IsNullOrEmpty(value))
            {
                throw new RegistryException(RegistryErrorKind.InvalidResponse, $"token service {realm.Authority} for {host.Authority} answered without a token");
            }

            TimeSpan lifetime = expiresIn > 0 ? TimeSpan.FromSeconds(expiresIn) : DefaultTokenLifetime;

            // Refresh a little early so a token does not expire between the check and the registry's own.
            TimeSpan margin = TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(10).Ticks, lifetime.Ticks / 10));
            var token = new CachedToken(value, _time.GetUtcNow() + lifetime - margin);
            _tokens[key] = token;
            Log.TokenFetched(_logger, host.Authority, scope, (long)lifetime.TotalSeconds);
            return token;
        }
    }
}
