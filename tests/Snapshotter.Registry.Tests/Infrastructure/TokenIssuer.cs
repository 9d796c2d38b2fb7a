using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Snapshotter.Registry.Tests.Infrastructure;

/// <summary>
/// A docker token service (distribution's token spec) on Kestrel: GET with optional Basic credentials, or POST
/// with an OAuth2 refresh token. Signs ES256 JWTs with an x5c header whose certificate the registry trusts.
/// Anonymous callers get pull only; known users get what they ask for.
/// </summary>
internal sealed class TokenIssuer : IAsyncDisposable
{
    public const string Service = "test-registry";
    public const string IssuerName = "test-issuer";

    private readonly X509Certificate2 _signer;
    private readonly TempDirectory _dir = new("token-issuer");
    private KestrelHost? _host;
    private int _requests;
    private int _expiredToIssue;

    private TokenIssuer()
    {
        _signer = TestCertificates.CreateTokenSigner();
        BundlePath = _dir.Combine("bundle.pem");
        File.WriteAllText(BundlePath, _signer.ExportCertificatePem());
    }

    public string BundlePath { get; }

    public Uri Realm => new(_host!.BaseUri, "token");

    public Dictionary<string, string> Users { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, string> RefreshTokens { get; } = new(StringComparer.Ordinal);

    /// <summary>Every request: (method, user or null, scopes).</summary>
    public ConcurrentQueue<(string Method, string? User, string Scopes)> Requests { get; } = new();

    /// <summary>Every token handed out (tests check that none is ever logged).</summary>
    public IReadOnlyList<string> IssuedTokens => [.. IssuedTokenQueue];

    private ConcurrentQueue<string> IssuedTokenQueue { get; } = new();

    public int RequestCount => Volatile.Read(ref _requests);

    /// <summary>The lifetime claimed in <c>expires_in</c>.</summary>
    public int ExpiresIn { get; set; } = 300;

    public TokenAuthSettings Settings => new(Realm, Service, IssuerName, BundlePath);

    public static async Task<TokenIssuer> StartAsync()
    {
        var issuer = new TokenIssuer();
        issuer._host = await KestrelHost.StartAsync(issuer.HandleAsync);
        return issuer;
    }

    /// <summary>The next <paramref name="count"/> tokens are already expired (the registry rejects them) while claiming a long lifetime.</summary>
    public void IssueExpiredTokens(int count) => Volatile.Write(ref _expiredToIssue, count);

    private async Task HandleAsync(HttpContext context)
    {
        Interlocked.Increment(ref _requests);
        string? user = null;
        IEnumerable<string> scopes;
        if (HttpMethods.IsPost(context.Request.Method))
        {
            IFormCollection form = await context.Request.ReadFormAsync();
            if (form["grant_type"] != "refresh_token" || !RefreshTokens.TryGetValue(form["refresh_token"].ToString(), out user))
            {
                context.Response.StatusCode = 401;
                return;
            }

            scopes = form["scope"].ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        }
        else
        {
            string authorization = context.Request.Headers.Authorization.ToString();
            if (authorization.StartsWith("Basic ", StringComparison.Ordinal))
            {
                string[] pair = Encoding.UTF8.GetString(Convert.FromBase64String(authorization[6..])).Split(':', 2);
                if (!Users.TryGetValue(pair[0], out string? password) || password != pair[1])
                {
                    context.Response.StatusCode = 401;
                    return;
                }

                user = pair[0];
            }

            scopes = context.Request.Query["scope"].Select(s => s!).ToArray();
        }

        Requests.Enqueue((context.Request.Method, user, string.Join(' ', scopes)));
        var access = new List<object>();
        foreach (string scope in scopes)
        {
            string[] parts = scope.Split(':');
            if (parts.Length != 3)
            {
                continue;
            }

            string[] actions = parts[2].Split(',');
            access.Add(new { type = parts[0], name = parts[1], actions = user is null ? actions.Where(a => a == "pull").ToArray() : actions });
        }

        bool expired = Interlocked.Decrement(ref _expiredToIssue) >= 0;
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        // distribution allows 60 s of leeway: an "expired" token is one from well before that.
        long exp = expired ? now - 3600 : now + ExpiresIn;
        string token = Sign(new
        {
            iss = IssuerName,
            sub = user ?? "",
            aud = Service,
            exp,
            nbf = expired ? now - 7200 : now - 10,
            iat = expired ? now - 7200 : now,
            jti = Guid.NewGuid().ToString("N"),
            access,
        });
        context.Response.ContentType = "application/json";
        IssuedTokenQueue.Enqueue(token);
        await context.Response.WriteAsync(JsonSerializer.Serialize(new { token, expires_in = ExpiresIn, issued_at = DateTimeOffset.UtcNow.ToString("O") }));
    }

    private string Sign(object claims)
    {
        string header = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new { typ = "JWT", alg = "ES256", x5c = new[] { Convert.ToBase64String(_signer.RawData) } }));
        string payload = Base64Url(JsonSerializer.SerializeToUtf8Bytes(claims));
        string signingInput = header + "." + payload;
        using ECDsa key = _signer.GetECDsaPrivateKey()!;
        byte[] signature = key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return signingInput + "." + Base64Url(signature);
    }

    private static string Base64Url(byte[] data) => Convert.ToBase64String(data).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public async ValueTask DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        _signer.Dispose();
        _dir.Dispose();
    }
}
