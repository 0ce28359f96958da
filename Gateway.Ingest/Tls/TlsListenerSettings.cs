namespace Gateway.Ingest.Tls;

/// <summary>The certificate settings of one TLS listener, as the rules below read them.</summary>
/// <param name="Section">The configuration section, e.g. <c>Gateway:Mqtt</c>, for the failure messages.</param>
/// <param name="Listener">What the listener is called in messages, e.g. "HTTPS listener".</param>
internal sealed record TlsListenerSettings(
    string Section, string Listener, string? CertificatePath, string? CertificateKeyPath, string? ClientCaPath, bool RequireClientCertificate)
{
    private bool Enabled => !string.IsNullOrEmpty(CertificatePath);

    /// <summary>Adds to <paramref name="failures"/> each rule these settings break: files that do not exist, a CA without a listener, a required certificate without a CA.</summary>
    public void AddFailures(List<string> failures)
    {
        ArgumentNullException.ThrowIfNull(failures);
        if (Enabled && !File.Exists(CertificatePath))
        {
            failures.Add($"{Section}:CertificatePath names a file that does not exist: '{CertificatePath}'.");
        }

        if (!string.IsNullOrEmpty(CertificateKeyPath) && !File.Exists(CertificateKeyPath))
        {
            failures.Add($"{Section}:CertificateKeyPath names a file that does not exist: '{CertificateKeyPath}'.");
        }

        if (!string.IsNullOrEmpty(ClientCaPath))
        {
            if (!Enabled)
            {
                failures.Add($"{Section}:ClientCaPath needs {Section}:CertificatePath: client certificates are checked on the {Listener}.");
            }
            else if (!File.Exists(ClientCaPath))
            {
                failures.Add($"{Section}:ClientCaPath names a file that does not exist: '{ClientCaPath}'.");
            }
        }

        if (RequireClientCertificate && string.IsNullOrEmpty(ClientCaPath))
        {
            failures.Add($"{Section}:RequireClientCertificate needs {Section}:ClientCaPath, the CA bundle client certificates are checked against.");
        }
    }
}
