using System.Security.Cryptography.X509Certificates;

namespace Gateway.Ingest.Tls;

/// <summary>Where a TLS listener's certificate lives, and the setting names to quote when it is wrong.</summary>
/// <param name="CertificatePath">A PKCS#12 file (.pfx/.p12), or a PEM certificate (with its key in <paramref name="KeyPath"/> or the same file).</param>
/// <param name="KeyPath">The PEM private key, when it is not in the certificate file.</param>
/// <param name="Password">Password of a PKCS#12 file. Never logged.</param>
/// <param name="Setting">The configuration key of <paramref name="CertificatePath"/>, for error messages.</param>
public sealed record ServerCertificateSource(string CertificatePath, string? KeyPath, string? Password, string Setting);

/// <summary>Loads a TLS listener's certificate from its files.</summary>
public static class ServerCertificate
{
    /// <summary>Loads the certificate and its private key; throws naming the setting when either is missing or unreadable.</summary>
    public static X509Certificate2 Load(ServerCertificateSource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var path = source.CertificatePath;
        X509Certificate2 certificate;
        if (path.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".p12", StringComparison.OrdinalIgnoreCase))
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(path, source.Password);
        }
        else
        {
            using var pem = X509Certificate2.CreateFromPemFile(path, string.IsNullOrEmpty(source.KeyPath) ? null : source.KeyPath);

            // Re-imported so the private key is usable by TLS on every platform (PEM keys are ephemeral on Windows).
            certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }

        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw new InvalidOperationException($"{source.Setting} '{path}' has no private key; set its key path too.");
        }

        return certificate;
    }
}
