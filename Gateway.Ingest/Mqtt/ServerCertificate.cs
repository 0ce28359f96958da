using System.Security.Cryptography.X509Certificates;

namespace Gateway.Ingest.Mqtt;

/// <summary>Loads the TLS listener's certificate from the configured files.</summary>
public static class ServerCertificate
{
    /// <summary>A PKCS#12 file (.pfx/.p12), or a PEM certificate with its key in <see cref="MqttIngestOptions.CertificateKeyPath"/> or the same file.</summary>
    public static X509Certificate2 Load(MqttIngestOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var path = options.CertificatePath ?? throw new InvalidOperationException("Gateway:Mqtt:CertificatePath is not set.");
        X509Certificate2 certificate;
        if (path.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".p12", StringComparison.OrdinalIgnoreCase))
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(path, options.CertificatePassword);
        }
        else
        {
            using var pem = X509Certificate2.CreateFromPemFile(path, string.IsNullOrEmpty(options.CertificateKeyPath) ? null : options.CertificateKeyPath);

            // Re-imported so the private key is usable by TLS on every platform (PEM keys are ephemeral on Windows).
            certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }

        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw new InvalidOperationException($"Gateway:Mqtt:CertificatePath '{path}' has no private key; set Gateway:Mqtt:CertificateKeyPath.");
        }

        return certificate;
    }
}
