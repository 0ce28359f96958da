using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// A throwaway certificate authority and the certificates it issues, written as PEM files into a folder,
/// for TLS and mutual-TLS tests against real servers on loopback.
/// </summary>
public sealed class TestCertificates
{
    private readonly X509Certificate2 _authority;
    private readonly string _folder;

    public TestCertificates(string folder)
    {
        _folder = folder;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=Gateway Test CA", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        _authority = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        AuthorityPath = Path.Combine(folder, "ca.pem");
        File.WriteAllText(AuthorityPath, _authority.ExportCertificatePem());
    }

    /// <summary>PEM of the authority's certificate: what a client or server trusts.</summary>
    public string AuthorityPath { get; }

    public X509Certificate2 Authority => _authority;

    /// <summary>A server certificate for localhost and 127.0.0.1.</summary>
    public IssuedCertificate IssueServer(string name = "server") => Issue(name, "localhost", server: true);

    /// <summary>A client certificate whose subject CN is <paramref name="commonName"/>.</summary>
    public IssuedCertificate IssueClient(string commonName) => Issue(commonName, commonName, server: false);

    private IssuedCertificate Issue(string fileName, string commonName, bool server)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [server ? new Oid("1.3.6.1.5.5.7.3.1") : new Oid("1.3.6.1.5.5.7.3.2")], false));
        if (server)
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddDnsName("localhost");
            names.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(names.Build());
        }

        var serial = RandomNumberGenerator.GetBytes(16);
        using var issued = request.Create(_authority, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(29), serial);
        var certificate = issued.CopyWithPrivateKey(key);
        var certificatePath = Path.Combine(_folder, fileName + ".crt.pem");
        var keyPath = Path.Combine(_folder, fileName + ".key.pem");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return new IssuedCertificate(certificate, certificatePath, keyPath);
    }
}

/// <summary>A certificate with its private key, and the PEM files holding them.</summary>
public sealed record IssuedCertificate(X509Certificate2 Certificate, string CertificatePath, string KeyPath);
