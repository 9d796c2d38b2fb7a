using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Snapshotter.Registry.Auth;
using Snapshotter.Registry.Hosts;
using Snapshotter.Registry.Http;

namespace Snapshotter.Registry;

/// <summary>
/// An OCI distribution client: resolves references to platform manifests, reads verified byte ranges and whole
/// blobs, and pushes blobs and manifests. Thread-safe; create one per process and share it (it owns pooled
/// connections, the token cache and cached redirect targets).
/// </summary>
/// <remarks>
/// Hosts come from a containerd-style hosts directory (mirrors first, then the origin); credentials from
/// docker's <c>config.json</c> and credential helpers. Every operation is bounded by
/// <see cref="RegistryClientOptions.AttemptTimeout"/> per attempt and <see cref="RegistryClientOptions.OverallTimeout"/>
/// overall, retries transient failures with exponential backoff and jitter, and honours cancellation at once.
/// Failures are <see cref="RegistryException"/>; their messages never hold credentials.
/// </remarks>
public sealed partial class RegistryClient : IBlobReader, IDisposable
{
    private readonly RegistryClientOptions _options;
    private readonly ILogger _logger;
    private readonly HttpPool _pool;
    private readonly HostsConfiguration _hosts;
    private readonly Authenticator _auth;
    private readonly ConcurrentDictionary<string, Uri> _redirects = new(StringComparer.Ordinal);

    /// <summary>Creates a client; <paramref name="options"/> is copied by reference and must not change afterwards.</summary>
    public RegistryClient(RegistryClientOptions? options = null, ILogger<RegistryClient>? logger = null)
    {
        _options = options ?? new RegistryClientOptions();
        _options.Validate();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _pool = new HttpPool(_options);
        _hosts = new HostsConfiguration(_options.HostsDirectory);
        _auth = new Authenticator(new DockerCredentialStore(_options.DockerConfigPath, _options.CredentialHelperDirectories, _logger), _pool, _options, _logger);
    }

    /// <summary>The options this client uses.</summary>
    public RegistryClientOptions Options => _options;

    public void Dispose() => _pool.Dispose();

    private static string PullScope(ImageReference repository) => $"repository:{repository.Repository}:pull";

    private static string PushScope(ImageReference repository) => $"repository:{repository.Repository}:pull,push";
}
