using Tomlyn;
using Tomlyn.Model;
using Tomlyn.Parsing;

namespace Snapshotter.Registry.Hosts;

/// <summary>
/// Reads one containerd <c>hosts.toml</c> (containerd <c>core/remotes/docker/config/hosts.go</c>, docs/hosts.md):
/// <c>[host."&lt;url&gt;"]</c> tables in file order, then the top-level <c>server</c>; each with <c>capabilities</c>,
/// <c>ca</c>, <c>client</c>, <c>skip_verify</c>, <c>header</c>, <c>override_path</c> and <c>dial_timeout</c>.
/// Relative paths are relative to the file's directory; unknown keys are ignored, as containerd does.
/// </summary>
internal static class HostsFile
{
    /// <summary>Parses <paramref name="text"/>; errors are <see cref="RegistryException"/>s naming the file and the key.</summary>
    /// <param name="file">The file's path, for relative paths and messages.</param>
    /// <param name="text">The file's contents.</param>
    /// <param name="origin">The server used when <c>server</c> is absent, e.g. <c>https://ghcr.io</c>.</param>
    /// <param name="defaultScheme">The scheme of a host written without one (loopback hosts always get <c>http</c>).</param>
    public static List<RegistryHost> Parse(string file, string text, string origin, string defaultScheme)
    {
        TomlTable document;
        try
        {
            // The model reader lets a redefined key or table win silently; the strict syntax pass rejects it.
            SyntaxParser.ParseStrict(text, file, validate: true);
            document = TomlSerializer.Deserialize<TomlTable>(text, new TomlSerializerOptions { SourceName = file })!;
        }
        catch (TomlException ex)
        {
            string problem = ex.Diagnostics is { Count: > 0 } diagnostics ? diagnostics[0].Message : ex.Message.Trim();
            throw Invalid(file, null, $"line {ex.Line}, column {ex.Column}: {problem}", ex);
        }

        string directory = Path.GetDirectoryName(Path.GetFullPath(file))!;
        var hosts = new List<RegistryHost>();
        if (document.TryGetValue("host", out object? hostValue))
        {
            if (hostValue is not TomlTable hostTable)
            {
                throw Invalid(file, null, "host must be a table of [host.\"<url>\"] tables");
            }

            // TomlTable keeps insertion order: mirrors are tried in the order the file lists them.
            foreach ((string url, object value) in hostTable)
            {
                string where = $"host \"{url}\"";
                hosts.Add(CreateHost(file, directory, where, url, value as TomlTable ?? throw Invalid(file, where, "must be a table"), defaultScheme));
            }
        }

        string server = document.TryGetValue("server", out object? s) ? s as string ?? throw Invalid(file, null, "server must be a string") : "";
        RegistryHost root = CreateHost(file, directory, null, server.Length == 0 ? origin : server, document, defaultScheme);

        // Configurations often repeat the server as a [host] entry; try it once, with the entry's settings.
        if (!hosts.Any(h => h.BaseUri == root.BaseUri))
        {
            hosts.Add(root);
        }

        return hosts;
    }

    private static RegistryHost CreateHost(string file, string directory, string? where, string url, TomlTable entry, string defaultScheme)
    {
        string withScheme = url.Contains("://", StringComparison.Ordinal) ? url : $"{(HostsConfiguration.IsLoopback(url.Split('/')[0]) ? "http" : defaultScheme)}://{url}";
        if (!Uri.TryCreate(withScheme, UriKind.Absolute, out Uri? uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
        {
            throw Invalid(file, where ?? "server", $"\"{url}\" is not an http(s) URL");
        }

        string path = uri.AbsolutePath.TrimEnd('/');
        if (!Bool(file, where, entry, "override_path") && !path.EndsWith("/v2", StringComparison.Ordinal))
        {
            path += "/v2";
        }

        var baseUri = new UriBuilder(uri.Scheme, uri.Host, uri.Port, path + "/").Uri;

        // containerd: a host without capabilities, or with an empty list, may do everything.
        HostCapabilities capabilities = HostCapabilities.None;
        if (entry.TryGetValue("capabilities", out object? caps))
        {
            foreach (string cap in Strings(caps) ?? throw Invalid(file, where, "capabilities must be an array of strings"))
            {
                capabilities |= cap.ToLowerInvariant() switch
                {
                    "pull" => HostCapabilities.Pull,
                    "resolve" => HostCapabilities.Resolve,
                    "push" => HostCapabilities.Push,
                    "referrers" => HostCapabilities.Referrers,
                    _ => throw Invalid(file, where, $"unknown capability \"{cap}\" in capabilities (pull, resolve, push, referrers)"),
                };
            }
        }

        var caFiles = new List<string>();
        if (entry.TryGetValue("ca", out object? ca))
        {
            IEnumerable<string> paths = ca is string one ? [one] : Strings(ca) ?? throw Invalid(file, where, "ca must be a string or an array of strings");
            caFiles.AddRange(paths.Select(p => Resolve(directory, p)));
        }

        var headers = new List<KeyValuePair<string, string>>();
        if (entry.TryGetValue("header", out object? h))
        {
            foreach ((string name, object value) in h as TomlTable ?? throw Invalid(file, where, "header must be a table"))
            {
                IEnumerable<string> values = value is string one ? [one] : Strings(value) ?? throw Invalid(file, where, $"header \"{name}\" must be a string or an array of strings");
                headers.AddRange(values.Select(v => new KeyValuePair<string, string>(name, v)));
            }
        }

        TimeSpan? dialTimeout = null;
        if (entry.TryGetValue("dial_timeout", out object? dt))
        {
            dialTimeout = dt is string text && GoDuration.TryParse(text, out TimeSpan parsed) && parsed >= TimeSpan.Zero
                ? parsed
                : throw Invalid(file, where, "dial_timeout must be a duration string such as \"10s\" or \"1m30s\"");
        }

        return new RegistryHost(
            baseUri,
            capabilities == HostCapabilities.None ? HostCapabilities.All : capabilities,
            Bool(file, where, entry, "skip_verify"),
            caFiles,
            entry.TryGetValue("client", out object? client) ? ClientCertificates(file, directory, where, client) : [],
            headers,
            dialTimeout);
    }

    /// <summary>containerd's three forms: one path, an array of paths (certificate and key in each file), or [certificate, key] pairs.</summary>
    private static List<ClientCertificateFiles> ClientCertificates(string file, string directory, string? where, object value)
    {
        const string Expected = "client must be a path, an array of paths or an array of [certificate, key] pairs";
        var certificates = new List<ClientCertificateFiles>();
        IEnumerable<object?> items = value is string ? [value] : value as TomlArray ?? throw Invalid(file, where, Expected);
        foreach (object? item in items)
        {
            if (item is string path)
            {
                certificates.Add(new(Resolve(directory, path), null));
            }
            else if (item is not null && Strings(item) is [string certificate, string key])
            {
                // An empty key means the key is in the certificate's file.
                certificates.Add(new(Resolve(directory, certificate), key.Length == 0 ? null : Resolve(directory, key)));
            }
            else
            {
                throw Invalid(file, where, Expected + "; a pair has exactly two strings");
            }
        }

        return certificates;
    }

    private static bool Bool(string file, string? where, TomlTable entry, string key) =>
        entry.TryGetValue(key, out object? value) && (value as bool? ?? throw Invalid(file, where, $"{key} must be true or false"));

    private static List<string>? Strings(object value) =>
        value is TomlArray array && array.All(x => x is string) ? [.. array.Cast<string>()] : null;

    private static string Resolve(string directory, string path) => Path.GetFullPath(Path.Combine(directory, path));

    private static RegistryException Invalid(string file, string? where, string problem, Exception? inner = null) =>
        new(RegistryErrorKind.InvalidReference, $"hosts.toml {file}: {(where is null ? "" : where + ": ")}{problem}", inner);
}
