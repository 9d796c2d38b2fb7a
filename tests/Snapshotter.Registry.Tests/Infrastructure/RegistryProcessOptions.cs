namespace Snapshotter.Registry.Tests.Infrastructure;

internal sealed record RegistryProcessOptions
{
    public string? HtpasswdPath { get; init; }

    public TokenAuthSettings? Token { get; init; }

    public string? TlsCertificatePath { get; init; }

    public string? TlsKeyPath { get; init; }
}
