namespace Snapshotter.Registry.Hosts;

/// <summary>One endpoint to try for a registry: a mirror from hosts.toml or the origin itself.</summary>
/// <param name="BaseUri">Scheme, authority and API path prefix, ending in '/' (normally <c>.../v2/</c>).</param>
/// <param name="Capabilities">What this host may be used for.</param>
/// <param name="SkipVerify">Accept any TLS certificate (hosts.toml <c>skip_verify</c>).</param>
/// <param name="CaFiles">Extra PEM CA files trusted for this host (hosts.toml <c>ca</c>).</param>
/// <param name="ClientCertificates">TLS client certificates offered to this host (hosts.toml <c>client</c>).</param>
/// <param name="Headers">Extra headers sent to this host (hosts.toml <c>header</c>).</param>
/// <param name="DialTimeout">Connect timeout for this host (hosts.toml <c>dial_timeout</c>); null for the client's default, zero for none.</param>
internal sealed record RegistryHost(
    Uri BaseUri,
    HostCapabilities Capabilities,
    bool SkipVerify,
    IReadOnlyList<string> CaFiles,
    IReadOnlyList<ClientCertificateFiles> ClientCertificates,
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    TimeSpan? DialTimeout)
{
    /// <summary>A host with every capability and default TLS and connection settings.</summary>
    public static RegistryHost Default(Uri baseUri) => new(baseUri, HostCapabilities.All, false, [], [], [], null);

    /// <summary>host[:port] used for credentials and token caching.</summary>
    public string Authority => BaseUri.IsDefaultPort ? BaseUri.Host : BaseUri.Authority;

    /// <summary>Key of the connection pool this host needs (hosts with the same TLS and dial settings share one).</summary>
    public string PoolKey =>
        !SkipVerify && CaFiles.Count == 0 && ClientCertificates.Count == 0 && DialTimeout is null
            ? "default"
            : $"skip-verify={SkipVerify}|ca={string.Join(',', CaFiles)}|client={string.Join(',', ClientCertificates.Select(c => c.CertificatePath + "+" + c.KeyPath))}|dial={DialTimeout?.Ticks}";
}
