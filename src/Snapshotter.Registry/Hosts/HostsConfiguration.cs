using System.Collections.Concurrent;
using System.Net;

namespace Snapshotter.Registry.Hosts;

/// <summary>
/// Resolves the endpoints of a registry like containerd: <c>&lt;dir&gt;/&lt;host[:port]&gt;/hosts.toml</c>
/// (else <c>&lt;dir&gt;/_default/hosts.toml</c>) lists mirrors, tried in file order, then the
/// <c>server</c> (the origin). Loopback registries default to plain HTTP (like nerdctl), others to HTTPS.
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
        string? file = FindFile(registry);
        if (file is null)
        {
            return [new RegistryHost(new Uri($"{defaultScheme}://{apiHost}/v2/"), HostCapabilities.All, false, [], [])];
        }

        string directory = Path.GetDirectoryName(file)!;
        Dictionary<string, object> doc;
        try
        {
            doc = TomlReader.Parse(File.ReadAllText(file), file);
        }
        catch (Exception ex) when (ex is FormatException or IOException or UnauthorizedAccessException)
        {
            throw new RegistryException(RegistryErrorKind.InvalidReference, $"cannot read hosts configuration {file}: {ex.Message}", ex);
        }

        var hosts = new List<RegistryHost>();
        if (doc.TryGetValue("host", out object? hostTable))
        {
            if (hostTable is not Dictionary<string, object> table)
            {
                throw Invalid(file, "\"host\" must be a table of [host.\"<url>\"] entries");
            }

            foreach ((string url, object value) in table)
            {
                if (value is not Dictionary<string, object> entry)
                {
                    throw Invalid(file, $"host \"{url}\" must be a table");
                }

                hosts.Add(CreateHost(file, directory, url, entry, defaultScheme));
            }
        }

        string server = doc.TryGetValue("server", out object? s) ? s as string ?? throw Invalid(file, "\"server\" must be a string") : $"{defaultScheme}://{apiHost}";
        RegistryHost origin = CreateHost(file, directory, server, doc, defaultScheme);

        // Configurations often repeat the server as a [host] entry; try it once, with the entry's settings.
        if (!hosts.Any(h => h.BaseUri == origin.BaseUri))
        {
            hosts.Add(origin);
        }

        return hosts;
    }

    private string? FindFile(string registry)
    {
        if (string.IsNullOrEmpty(_directory) || !Directory.Exists(_directory))
        {
            return null;
        }

        foreach (string name in new[] { registry, registry.Replace(':', '_'), "_default" })
        {
            string candidate = Path.Combine(_directory, name, "hosts.toml");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static RegistryHost CreateHost(string file, string directory, string url, Dictionary<string, object> entry, string defaultScheme)
    {
        string withScheme = url.Contains("://", StringComparison.Ordinal) ? url : $"{(IsLoopback(url.Split('/')[0]) ? "http" : defaultScheme)}://{url}";
        if (!Uri.TryCreate(withScheme, UriKind.Absolute, out Uri? uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
        {
            throw Invalid(file, $"\"{url}\" is not an http(s) URL");
        }

        bool overridePath = entry.TryGetValue("override_path", out object? op) && op is true;
        string path = uri.AbsolutePath.TrimEnd('/');
        if (!overridePath && !path.EndsWith("/v2", StringComparison.Ordinal))
        {
            path += "/v2";
        }

        var baseUri = new UriBuilder(uri.Scheme, uri.Host, uri.Port, path + "/").Uri;

        // containerd: a host without "capabilities" may do everything.
        HostCapabilities capabilities = HostCapabilities.All;
        if (entry.TryGetValue("capabilities", out object? caps))
        {
            capabilities = HostCapabilities.None;
            foreach (string cap in StringList(file, "capabilities", caps))
            {
                capabilities |= cap switch
                {
                    "pull" => HostCapabilities.Pull,
                    "resolve" => HostCapabilities.Resolve,
                    "push" => HostCapabilities.Push,
                    _ => throw Invalid(file, $"unknown capability \"{cap}\" (pull, resolve, push)"),
                };
            }
        }

        bool skipVerify = entry.TryGetValue("skip_verify", out object? sv) && (sv as bool? ?? throw Invalid(file, "\"skip_verify\" must be a boolean"));
        var caFiles = new List<string>();
        if (entry.TryGetValue("ca", out object? ca))
        {
            foreach (string path2 in StringList(file, "ca", ca))
            {
                caFiles.Add(Path.IsPathRooted(path2) ? path2 : Path.Combine(directory, path2));
            }
        }

        var headers = new List<KeyValuePair<string, string>>();
        if (entry.TryGetValue("header", out object? h))
        {
            if (h is not Dictionary<string, object> headerTable)
            {
                throw Invalid(file, "\"header\" must be a table");
            }

            foreach ((string name, object value) in headerTable)
            {
                foreach (string v in StringList(file, "header." + name, value))
                {
                    headers.Add(new(name, v));
                }
            }
        }

        return new RegistryHost(baseUri, capabilities, skipVerify, caFiles, headers);
    }

    private static IEnumerable<string> StringList(string file, string key, object value) => value switch
    {
        string one => [one],
        List<object> many when many.All(x => x is string) => many.Cast<string>(),
        _ => throw Invalid(file, $"\"{key}\" must be a string or an array of strings"),
    };

    private static RegistryException Invalid(string file, string problem) =>
        new(RegistryErrorKind.InvalidReference, $"invalid hosts configuration {file}: {problem}");
}
