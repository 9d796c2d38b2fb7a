using System.Collections.Concurrent;
using System.Net;

namespace Snapshotter.Registry.Hosts;

/// <summary>
/// Resolves the endpoints of a registry like containerd (<c>core/remotes/docker/config</c>): the first existing
/// directory of <c>&lt;dir&gt;/&lt;host&gt;_&lt;port&gt;_</c>, <c>&lt;dir&gt;/&lt;host[:port]&gt;</c> and
/// <c>&lt;dir&gt;/_default</c> configures it. Its <c>hosts.toml</c> (<see cref="HostsFile"/>) lists mirrors, tried in
/// file order, then the <c>server</c> (the origin); without one, docker's certificate files in the directory apply to
/// the origin (<c>*.crt</c> CAs, <c>*.cert</c> client certificates with a <c>.key</c> of the same name).
/// Loopback registries default to plain HTTP (like nerdctl), others to HTTPS.
/// </summary>
internal sealed class HostsConfiguration
{
    private readonly string? _directory;
    private readonly ConcurrentDictionary<string, IReadOnlyList<RegistryHost>> _cache = new(StringComparer.Ordinal);

    public HostsConfiguration(string? directory)
    {
        _directory = directory;
    }

    /// <summary>Returns the hosts to try for <paramref name="registry"/>, mirrors first; the list is cached.</summary>
    public IReadOnlyList<RegistryHost> GetHosts(string registry) => _cache.GetOrAdd(registry, Load);

    /// <summary>True for localhost, 127.0.0.0/8 and ::1, with or without a port.</summary>
    internal static bool IsLoopback(string authority)
    {
        string host = authority;
        if (host.StartsWith('['))
        {
            int close = host.IndexOf(']');
            host = close > 0 ? host[1..close] : host;
        }
        else
        {
            int colon = host.LastIndexOf(':');
            host = colon >= 0 ? host[..colon] : host;
        }

        return host == "localhost" || (IPAddress.TryParse(host, out IPAddress? address) && IPAddress.IsLoopback(address));
    }

    private IReadOnlyList<RegistryHost> Load(string registry)
    {
        string apiHost = registry == ImageReference.DockerHub ? ImageReference.DockerHubApiHost : registry;
        string defaultScheme = IsLoopback(apiHost) ? "http" : "https";
        string origin = $"{defaultScheme}://{apiHost}";
        string? directory = FindDirectory(registry);
        if (directory is null)
        {
            return [RegistryHost.Default(new Uri(origin + "/v2/"))];
        }

        string file = Path.Combine(directory, "hosts.toml");
        string text;
        try
        {
            text = File.Exists(file) ? File.ReadAllText(file) : "";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new RegistryException(RegistryErrorKind.InvalidReference, $"hosts.toml {file}: cannot read it: {ex.Message}", ex);
        }

        return text.Length > 0 ? HostsFile.Parse(file, text, origin, defaultScheme) : [FromCertificateFiles(directory, new Uri(origin + "/v2/"))];
    }

    private string? FindDirectory(string registry)
    {
        if (string.IsNullOrEmpty(_directory))
        {
            return null;
        }

        // containerd tries "host_port_" first (a name valid on every file system), then "host:port".
        int colon = registry.LastIndexOf(':');
        string[] names = colon > 0 ? [$"{registry[..colon]}_{registry[(colon + 1)..]}_", registry, "_default"] : [registry, "_default"];
        return names.Select(name => Path.Combine(_directory, name)).FirstOrDefault(Directory.Exists);
    }

    /// <summary>docker's certs.d layout, containerd's fallback when a host directory has no hosts.toml.</summary>
    private static RegistryHost FromCertificateFiles(string directory, Uri baseUri)
    {
        string[] files = Directory.GetFiles(directory);
        Array.Sort(files, StringComparer.Ordinal);
        var clients = files.Where(f => f.EndsWith(".cert", StringComparison.Ordinal))
            .Select(f => new ClientCertificateFiles(f, File.Exists(Path.ChangeExtension(f, ".key")) ? Path.ChangeExtension(f, ".key") : null))
            .ToList();
        return RegistryHost.Default(baseUri) with
        {
            CaFiles = [.. files.Where(f => f.EndsWith(".crt", StringComparison.Ordinal))],
            ClientCertificates = clients,
        };
    }
}
