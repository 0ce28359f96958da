using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// A throwaway PKI written as PEM files into a folder: a CA, a server certificate for 127.0.0.1/localhost (which
/// can be renewed in place), client certificates for named devices (also expired ones), and a second CA the gateway
/// does not trust with a client of its own.
/// </summary>
public sealed class TestCertificates
{
    private readonly string _folder;
    private readonly X509Certificate2 _ca;
    private readonly X509Certificate2 _untrustedCa;

    public TestCertificates(string folder)
    {
        _folder = folder;
        Directory.CreateDirectory(folder);
        _ca = CreateCa("Gateway Test CA");
        _untrustedCa = CreateCa("Someone Else's CA");
        CaPath = WritePem("ca.pem", _ca, key: false);
        Server = IssueServer();
        ServerCertificatePath = WritePem("server.pem", Server, key: false);
        ServerKeyPath = WritePem("server.key", Server, key: true);
    }

    /// <summary>The trusted CA's certificate, for clients that take a trust chain in memory.</summary>
    public X509Certificate2 Authority => _ca;

    /// <summary>The server certificate (localhost, 127.0.0.1) with its private key, for servers a test starts.</summary>
    public X509Certificate2 Server { get; private set; }

    /// <summary>The trusted CA (client CA bundle for the gateway, CA file for clients).</summary>
    public string CaPath { get; }

    public string ServerCertificatePath { get; }

    public string ServerKeyPath { get; }

    /// <summary>A client certificate signed by the trusted CA, with <paramref name="commonName"/> as CN and optional SAN DNS names.</summary>
    public ClientCertificate Client(string commonName, params string[] dnsNames) => Write(Issue(_ca, commonName, serverAuth: false, dnsNames: dnsNames), commonName);

    /// <summary>A client certificate for <paramref name="commonName"/> signed by a CA the gateway does not trust.</summary>
    public ClientCertificate Untrusted(string commonName) => Write(Issue(_untrustedCa, commonName, serverAuth: false, dnsNames: []), "untrusted-" + commonName);

    /// <summary>A client certificate for <paramref name="commonName"/> from the trusted CA whose validity ended yesterday.</summary>
    public ClientCertificate Expired(string commonName) =>
        Write(Issue(_ca, commonName, serverAuth: false, dnsNames: [], validFrom: DateTimeOffset.UtcNow.AddDays(-10), validTo: DateTimeOffset.UtcNow.AddDays(-1)), "expired-" + commonName);

    /// <summary>
    /// Issues a new server certificate (new key, new serial) and writes it over the server files, the way a renewal
    /// job (certbot, step) replaces them: the key first, then the certificate.
    /// </summary>
    public X509Certificate2 RenewServer()
    {
        var renewed = IssueServer();
        WritePem("server.key", renewed, key: true);
        WritePem("server.pem", renewed, key: false);
        Server = renewed;
        return renewed;
    }

    private X509Certificate2 IssueServer() => Issue(_ca, "localhost", serverAuth: true, dnsNames: ["localhost"], ip: IPAddress.Loopback);

    private ClientCertificate Write(X509Certificate2 certificate, string name) =>
        new(certificate, WritePem($"{name}.pem", certificate, key: false), WritePem($"{name}.key", certificate, key: true));

    private static X509Certificate2 CreateCa(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-30), DateTimeOffset.UtcNow.AddDays(30));
    }

    private static X509Certificate2 Issue(
        X509Certificate2 issuer, string commonName, bool serverAuth, string[] dnsNames, IPAddress? ip = null, DateTimeOffset? validFrom = null, DateTimeOffset? validTo = null)
    {
        // Not disposed: the issued certificate keeps using it.
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid(serverAuth ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
        if (dnsNames.Length > 0 || ip is not null)
        {
            var san = new SubjectAlternativeNameBuilder();
            foreach (var dns in dnsNames)
            {
                san.AddDnsName(dns);
            }

            if (ip is not null)
            {
                san.AddIpAddress(ip);
            }

            request.CertificateExtensions.Add(san.Build());
        }

        var serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7F;
        using var issued = request.Create(issuer, validFrom ?? DateTimeOffset.UtcNow.AddDays(-1), validTo ?? DateTimeOffset.UtcNow.AddDays(10), serial);
        return issued.CopyWithPrivateKey(key);
    }

    private string WritePem(string file, X509Certificate2 certificate, bool key)
    {
        var path = Path.Combine(_folder, file);
        var text = key
            ? certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem()
            : certificate.ExportCertificatePem();
        File.WriteAllText(path, text + "\n");
        return path;
    }
}

/// <summary>A client certificate with its private key, in memory and as PEM files.</summary>
public sealed record ClientCertificate(X509Certificate2 Certificate, string CertificatePath, string KeyPath);
