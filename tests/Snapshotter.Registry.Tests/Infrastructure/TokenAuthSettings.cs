namespace Snapshotter.Registry.Tests.Infrastructure;

/// <summary>The registry side of <c>auth: token</c>.</summary>
internal sealed record TokenAuthSettings(Uri Realm, string Service, string Issuer, string RootCertificateBundlePath);
