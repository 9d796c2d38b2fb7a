using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Snapshotter.Registry.Tests.Infrastructure;

/// <summary>Test PKI made with .NET's CertificateRequest: a CA, and server certificates it signs, as PEM files.</summary>
internal static class TestCertificates
{
    /// <summary>Creates a CA and a server certificate for 127.0.0.1/localhost; writes ca.pem, server.pem, server.key into <paramref name="directory"/>.</summary>
    public static (string CaPath, string CertPath, string KeyPath) CreateServerPki(string directory, string name = "server")
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=Snapshotter Test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using X509Certificate2 ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(7));

        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var serverRequest = new CertificateRequest("CN=127.0.0.1", serverKey, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        serverRequest.CertificateExtensions.Add(san.Build());
        serverRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        serverRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        serverRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        byte[] serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using X509Certificate2 server = serverRequest.Create(ca, DateTimeOffset.UtcNow.AddHours(-1), ca.NotAfter.AddDays(-1), serial);

        string caPath = Path.Combine(directory, "ca.pem");
        string certPath = Path.Combine(directory, name + ".pem");
        string keyPath = Path.Combine(directory, name + ".key");
        File.WriteAllText(caPath, ca.ExportCertificatePem());
        File.WriteAllText(certPath, server.ExportCertificatePem());
        File.WriteAllText(keyPath, serverKey.ExportPkcs8PrivateKeyPem());
        return (caPath, certPath, keyPath);
    }

    /// <summary>
    /// Creates a client CA and a client certificate it signs (EKU clientAuth); writes client-ca.pem, client.pem,
    /// client.key and client-with-key.pem (certificate and key in one file) into <paramref name="directory"/>.
    /// </summary>
    public static (string CaPath, string CertPath, string KeyPath, string CombinedPath) CreateClientPki(string directory)
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=Snapshotter Test Client CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using X509Certificate2 ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(7));

        using var clientKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var clientRequest = new CertificateRequest("CN=snapshotter-test-client", clientKey, HashAlgorithmName.SHA256);
        clientRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        clientRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        clientRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        clientRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        byte[] serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using X509Certificate2 client = clientRequest.Create(ca, DateTimeOffset.UtcNow.AddHours(-1), ca.NotAfter.AddDays(-1), serial);

        string caPath = Path.Combine(directory, "client-ca.pem");
        string certPath = Path.Combine(directory, "client.pem");
        string keyPath = Path.Combine(directory, "client.key");
        string combinedPath = Path.Combine(directory, "client-with-key.pem");
        File.WriteAllText(caPath, ca.ExportCertificatePem());
        File.WriteAllText(certPath, client.ExportCertificatePem());
        File.WriteAllText(keyPath, clientKey.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(combinedPath, client.ExportCertificatePem() + "\n" + clientKey.ExportPkcs8PrivateKeyPem());
        return (caPath, certPath, keyPath, combinedPath);
    }

    /// <summary>A self-signed ES256 token-signing certificate (no EKU, so distribution accepts it for any usage).</summary>
    public static X509Certificate2 CreateTokenSigner()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=Snapshotter Test Token Issuer", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyCertSign, true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(7));
    }
}
