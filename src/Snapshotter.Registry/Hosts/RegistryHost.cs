namespace Snapshotter.Registry.Hosts;

/// <summary>One endpoint to try for a registry: a mirror from hosts.toml or the origin itself.</summary>
/// <param name="BaseUri">Scheme, authority and API path prefix, ending in '/' (normally <c>.../v2/</c>).</param>
/// <param name="Capabilities">What this host may be used for.</param>
/// <param name="SkipVerify">Accept any TLS certificate (hosts.toml <c>skip_verify</c>).</param>
/// <param name="CaFiles">Extra PEM CA files trusted for this host (hosts.toml <c>ca</c>).</param>
/// <param name="Headers">Extra headers sent to this host (hosts.toml <c>header</c>).</param>
internal sealed record RegistryHost(
    Uri BaseUri,
    HostCapabilities Capabilities,
    bool SkipVerify,
    IReadOnlyList<string> CaFiles,
    IReadOnlyList<KeyValuePair<string, string>> Headers)
{
    /// <summary>host[:port] used for credentials and token caching.</summary>
    public string Authority => BaseUri.IsDefaultPort ? BaseUri.Host : BaseUri.Authority;

    /// <summary>Key of the connection pool this host needs (hosts with the same trust settings share one).</summary>
    public string TrustKey => SkipVerify ? "skip-verify" : CaFiles.Count == 0 ? "default" : "ca:" + string.Join('|', CaFiles);
}
