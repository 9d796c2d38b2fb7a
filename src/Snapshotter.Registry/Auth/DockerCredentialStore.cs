using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Snapshotter.Registry.Auth;

/// <summary>
/// Credentials the way docker and nerdctl find them: <c>config.json</c> <c>credHelpers</c> for the host, else
/// <c>credsStore</c>, else <c>auths</c> (<c>auth</c>, <c>username</c>/<c>password</c>, <c>identitytoken</c>).
/// Helpers run as <c>docker-credential-&lt;name&gt; get</c> with the server on stdin. Results are cached per host.
/// </summary>
internal sealed class DockerCredentialStore
{
    /// <summary>The key Docker Hub credentials are stored under.</summary>
    internal const string DockerHubKey = "https://index.docker.io/v1/";

    private static readonly TimeSpan HelperTimeout = TimeSpan.FromSeconds(15);
    private readonly string? _configPath;
    private readonly IReadOnlyList<string> _helperDirectories;
    private readonly ILogger _logger;
    private readonly Lazy<DockerConfig> _config;
    private readonly ConcurrentDictionary<string, Task<RegistryCredential?>> _cache = new(StringComparer.Ordinal);

    public DockerCredentialStore(string? configPath, IReadOnlyList<string> helperDirectories, ILogger logger)
    {
        _configPath = configPath ?? DefaultConfigPath();
        _helperDirectories = helperDirectories;
        _logger = logger;
        _config = new Lazy<DockerConfig>(LoadConfig);
    }

    /// <summary>Returns the credentials for a registry host (<c>host[:port]</c>), or null for anonymous access.</summary>
    public Task<RegistryCredential?> GetAsync(string host, CancellationToken cancellationToken = default)
    {
        Task<RegistryCredential?> task = _cache.GetOrAdd(host, h => LookupAsync(h));

        // A failed helper run is not cached: the next request may succeed.
        if (task.IsFaulted || task.IsCanceled)
        {
            _cache.TryRemove(new KeyValuePair<string, Task<RegistryCredential?>>(host, task));
        }

        return task.WaitAsync(cancellationToken);
    }

    private static string? DefaultConfigPath()
    {
        string? dir = Environment.GetEnvironmentVariable("DOCKER_CONFIG");
        if (string.IsNullOrEmpty(dir))
        {
            string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            if (string.IsNullOrEmpty(home))
            {
                return null;
            }

            dir = Path.Combine(home, ".docker");
        }

        return Path.Combine(dir, "config.json");
    }

    private static bool IsDockerHub(string host) => host is "docker.io" or "index.docker.io" or "registry-1.docker.io";

    private static string NormalizeKey(string key)
    {
        string k = key;
        int scheme = k.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            k = k[(scheme + 3)..];
        }

        int slash = k.IndexOf('/');
        if (slash >= 0)
        {
            k = k[..slash];
        }

        return IsDockerHub(k) ? "docker.io" : k;
    }

    private async Task<RegistryCredential?> LookupAsync(string host)
    {
        DockerConfig config = _config.Value;
        string normalized = NormalizeKey(host);
        string? helper = null;
        foreach ((string key, string name) in config.CredHelpers)
        {
            if (NormalizeKey(key) == normalized)
            {
                helper = name;
                break;
            }
        }

        helper ??= config.CredsStore;
        if (!string.IsNullOrEmpty(helper))
        {
            RegistryCredential? fromHelper = await RunHelperAsync(helper, IsDockerHub(normalized) ? DockerHubKey : host).ConfigureAwait(false);
            if (fromHelper is not null)
            {
                return fromHelper;
            }
        }

        return config.Auths.TryGetValue(normalized, out RegistryCredential? stored) ? stored : null;
    }

    private DockerConfig LoadConfig()
    {
        var config = new DockerConfig();
        if (_configPath is null || !File.Exists(_configPath))
        {
            return config;
        }

        try
        {
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(_configPath));
            JsonElement root = doc.RootElement;
            if (root.TryGetProperty("credsStore", out JsonElement store) && store.ValueKind == JsonValueKind.String)
            {
                config.CredsStore = store.GetString();
            }

            if (root.TryGetProperty("credHelpers", out JsonElement helpers) && helpers.ValueKind == JsonValueKind.Object)
            {
                foreach (JsonProperty p in helpers.EnumerateObject())
                {
                    if (p.Value.ValueKind == JsonValueKind.String)
                    {
                        config.CredHelpers.Add((p.Name, p.Value.GetString()!));
                    }
                }
            }

            if (root.TryGetProperty("auths", out JsonElement auths) && auths.ValueKind == JsonValueKind.Object)
            {
                foreach (JsonProperty p in auths.EnumerateObject())
                {
                    RegistryCredential? credential = ParseAuthEntry(p.Value);
                    if (credential is not null)
                    {
                        config.Auths.TryAdd(NormalizeKey(p.Name), credential);
                    }
                }
            }
        }
        catch (Exception ex) when (ex is JsonException or IOException or UnauthorizedAccessException or FormatException)
        {
            // The message of a JSON error can quote the file; name the file only.
            Log.DockerConfigUnreadable(_logger, _configPath, ex.GetType().Name);
        }

        return config;
    }

    private static RegistryCredential? ParseAuthEntry(JsonElement entry)
    {
        if (entry.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        string? username = GetString(entry, "username");
        string? password = GetString(entry, "password");
        string? identityToken = GetString(entry, "identitytoken");
        string? auth = GetString(entry, "auth");
        if (!string.IsNullOrEmpty(auth))
        {
            string decoded = Encoding.UTF8.GetString(Convert.FromBase64String(auth));
            int colon = decoded.IndexOf(':');
            if (colon > 0)
            {
                username = decoded[..colon];
                password = decoded[(colon + 1)..];
            }
        }

        if (string.IsNullOrEmpty(identityToken) && (string.IsNullOrEmpty(username) || password is null))
        {
            return null;
        }

        return new RegistryCredential(username, password, string.IsNullOrEmpty(identityToken) ? null : identityToken);
    }

    private static string? GetString(JsonElement element, string name) =>
        element.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private async Task<RegistryCredential?> RunHelperAsync(string helper, string serverUrl)
    {
        string program = "docker-credential-" + helper;
        string executable = _helperDirectories.Select(d => Path.Combine(d, program)).FirstOrDefault(File.Exists) ?? program;
        var start = new ProcessStartInfo(executable, ["get"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("process did not start");
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            Log.CredentialHelperMissing(_logger, program);
            return null;
        }

        using (process)
        {
            using var timeout = new CancellationTokenSource(HelperTimeout);
            try
            {
                await process.StandardInput.WriteAsync(serverUrl).ConfigureAwait(false);
                process.StandardInput.Close();
                Task<string> stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
                Task<string> stderr = process.StandardError.ReadToEndAsync(timeout.Token);
                await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
                string output = await stdout.ConfigureAwait(false);
                await stderr.ConfigureAwait(false);
                if (process.ExitCode != 0)
                {
                    // "credentials not found in native keychain" is the normal miss; the output is not logged.
                    Log.CredentialHelperFailed(_logger, program, process.ExitCode);
                    return null;
                }

                using JsonDocument doc = JsonDocument.Parse(output);
                string? username = GetString(doc.RootElement, "Username");
                string? secret = GetString(doc.RootElement, "Secret");
                if (string.IsNullOrEmpty(secret))
                {
                    return null;
                }

                // Docker's convention: the user name "<token>" marks an identity (refresh) token.
                return username == "<token>"
                    ? new RegistryCredential(null, null, secret)
                    : new RegistryCredential(username, secret, null);
            }
            catch (OperationCanceledException)
            {
                try
                {
                    process.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                }

                throw new RegistryException(RegistryErrorKind.Unauthorized, $"credential helper {program} did not answer within {HelperTimeout.TotalSeconds:0} s");
            }
            catch (JsonException)
            {
                throw new RegistryException(RegistryErrorKind.Unauthorized, $"credential helper {program} printed something that is not the expected JSON");
            }
        }
    }

    private sealed class DockerConfig
    {
        public string? CredsStore { get; set; }

        public List<(string Host, string Helper)> CredHelpers { get; } = [];

        public Dictionary<string, RegistryCredential> Auths { get; } = new(StringComparer.Ordinal);
    }
}
