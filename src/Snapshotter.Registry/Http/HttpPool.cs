using System.Collections.Concurrent;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Snapshotter.Registry.Hosts;

namespace Snapshotter.Registry.Http;

/// <summary>
/// Owns the connection pools: one <see cref="SocketsHttpHandler"/> shared by every host with default settings,
/// and one per distinct hosts.toml TLS and dial setting (<c>ca</c>, <c>client</c>, <c>skip_verify</c>, <c>dial_timeout</c>).
/// Redirects are never followed by the handler: the client follows them so <c>Authorization</c> stays home.
/// </summary>
internal sealed class HttpPool : IDisposable
{
    private readonly RegistryClientOptions _options;
    private readonly ConcurrentDictionary<string, Lazy<HttpMessageInvoker>> _invokers = new(StringComparer.Ordinal);

    public HttpPool(RegistryClientOptions options)
    {
        _options = options;
    }

    /// <summary>The invoker for a host's TLS and dial settings.</summary>
    public HttpMessageInvoker Get(RegistryHost host) =>
        _invokers.GetOrAdd(host.PoolKey, _ => new Lazy<HttpMessageInvoker>(() => Create(host))).Value;

    /// <summary>The invoker for hosts reached by redirect (object storage): default trust.</summary>
    public HttpMessageInvoker Default =>
        _invokers.GetOrAdd("default", _ => new Lazy<HttpMessageInvoker>(() => Create(null))).Value;

    public void Dispose()
    {
        foreach (Lazy<HttpMessageInvoker> invoker in _invokers.Values)
        {
            if (invoker.IsValueCreated)
            {
                invoker.Value.Dispose();
            }
        }
    }

    private HttpMessageInvoker Create(RegistryHost? host)
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            AutomaticDecompression = System.Net.DecompressionMethods.None,
            UseCookies = false,
            UseProxy = false,
            // Go's dialer treats a zero dial_timeout as "none"; the attempt timeout still bounds the request.
            ConnectTimeout = host?.DialTimeout is { } dial ? (dial == TimeSpan.Zero ? Timeout.InfiniteTimeSpan : dial) : _options.ConnectTimeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(90),
            MaxConnectionsPerServer = _options.MaxConnectionsPerServer,
            EnableMultipleHttp2Connections = true,
        };

        if (host is { SkipVerify: true })
        {
            handler.SslOptions.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
        }
        else if (host is { CaFiles.Count: > 0 })
        {
            var roots = new X509Certificate2Collection();
            foreach (string file in host.CaFiles)
            {
                try
                {
                    roots.ImportFromPemFile(file);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
                {
                    throw new RegistryException(RegistryErrorKind.InvalidReference, $"cannot read CA file {file} for {host.Authority}: {ex.Message}", ex);
                }
            }

            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => ValidateWithRoots(certificate, errors, roots);
        }

        if (host is { ClientCertificates.Count: > 0 })
        {
            // Offered when the server asks; SslStream picks the one whose issuer the server accepts, like Go's client.
            var certificates = new X509CertificateCollection();
            foreach (ClientCertificateFiles files in host.ClientCertificates)
            {
                try
                {
                    certificates.Add(X509Certificate2.CreateFromPemFile(files.CertificatePath, files.KeyPath));
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
                {
                    throw new RegistryException(RegistryErrorKind.InvalidReference, $"cannot load client certificate {files.CertificatePath} (key {files.KeyPath ?? "in the same file"}) for {host.Authority}: {ex.Message}", ex);
                }
            }

            handler.SslOptions.ClientCertificates = certificates;
        }

        return new HttpMessageInvoker(new MeteringHandler(handler, _options.Metrics ?? Telemetry.SnapshotterMetrics.Shared), disposeHandler: true);
    }

    private static bool ValidateWithRoots(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection roots)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        // Only chain errors may be cured by our roots; a name mismatch or a missing certificate may not.
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != 0)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = new X509Certificate2(certificate);
        return chain.Build(leaf);
    }
}
