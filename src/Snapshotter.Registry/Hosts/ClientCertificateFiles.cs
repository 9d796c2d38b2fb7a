namespace Snapshotter.Registry.Hosts;

/// <summary>A TLS client certificate from hosts.toml <c>client</c>: PEM files, absolute paths.</summary>
/// <param name="CertificatePath">The PEM certificate (and, when <paramref name="KeyPath"/> is null, its private key).</param>
/// <param name="KeyPath">The PEM private key, or null when it is in <paramref name="CertificatePath"/>.</param>
internal sealed record ClientCertificateFiles(string CertificatePath, string? KeyPath);
