namespace Snapshotter.Registry.Tests.Infrastructure;

internal sealed record RegistryProcessOptions
{
    public string? HtpasswdPath { get; init; }

    public TokenAuthSettings? Token { get; init; }

    public string? TlsCertificatePath { get; init; }

    public string? TlsKeyPath { get; init; }

    /// <summary>A CA bundle for <c>http.tls.clientcas</c>: the registry then refuses clients without a certificate it signed.</summary>
    public string? TlsClientCaPath { get; init; }

    /// <summary>Write an access log line per request (it names the HTTP protocol version) to <see cref="RegistryProcess.Log"/>.</summary>
    public bool AccessLog { get; init; }

    /// <summary>Storage kept outside the process (not deleted on dispose), so a restarted registry serves the same images.</summary>
    public string? StorageDirectory { get; init; }

    /// <summary>The loopback port to listen on (a restart keeps its address); a free one when unset.</summary>
    public int? Port { get; init; }
}
