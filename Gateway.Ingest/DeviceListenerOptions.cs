using Gateway.Ingest.Credentials;
using Gateway.Ingest.Tls;

namespace Gateway.Ingest;

/// <summary>
/// What the MQTT and HTTP ingest settings share, bound under each transport's own section: who may connect without
/// credentials or send a secret in plaintext, and the TLS listener's certificate files and client certificates. The
/// rules behind them (<see cref="DeviceCredentialCheck"/>, <see cref="AddCertificateFailures"/>) are the same for both.
/// </summary>
/// <param name="section">The transport's configuration section, for the keys named in messages.</param>
/// <param name="listener">What the transport's TLS listener is called in messages ("TLS listener", "HTTPS listener").</param>
public abstract class DeviceListenerOptions(string section, string listener)
{
    /// <summary>
    /// Lets clients without credentials send as any device, for first-run use: only over plaintext, only from loopback,
    /// and only while the plaintext listener is bound to loopback. Turn it off once devices have secrets.
    /// </summary>
    public bool AllowAnonymous { get; set; } = true;

    /// <summary>
    /// Takes device secrets on the plaintext listener from other machines too. Off by default: a secret sent without
    /// TLS can be read by anyone on the way, so off loopback it is refused (<c>plaintext-credentials</c>). Turn it on
    /// only for a network you trust end to end, such as a container's port mapped to the host's loopback.
    /// </summary>
    public bool AllowPlaintextCredentials { get; set; }

    /// <summary>
    /// The TLS listener's server certificate: a PEM file (with <see cref="CertificateKeyPath"/>, or holding the key
    /// too) or a PKCS#12 (.pfx/.p12) file. Setting it starts the listener. Read again when the files change, so a
    /// renewed certificate needs no restart.
    /// </summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PEM private key of <see cref="CertificatePath"/>, when it is not in the same file.</summary>
    public string? CertificateKeyPath { get; set; }

    /// <summary>Password of a PKCS#12 certificate file. Never logged.</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>PEM bundle of the CA certificates device client certificates must chain to; the TLS listener asks clients for one.</summary>
    public string? ClientCaPath { get; set; }

    /// <summary>Refuses TLS connections without a valid client certificate at the handshake (needs <see cref="ClientCaPath"/>).</summary>
    public bool RequireClientCertificate { get; set; }

    /// <summary>True when the TLS listener runs.</summary>
    public bool TlsEnabled => !string.IsNullOrEmpty(CertificatePath);

    /// <summary>What the plaintext listener allows.</summary>
    public ListenerPolicy PlaintextPolicy => new(AllowAnonymous, RequireClientCertificate: false, AllowPlaintextCredentials);

    /// <summary>What the TLS listener allows.</summary>
    public ListenerPolicy TlsPolicy => new(AllowAnonymous: false, RequireClientCertificate, AllowPlaintextCredentials: false);

    /// <summary>The TLS listener's certificate files.</summary>
    public ServerCertificateSource CertificateSource() =>
        new(CertificatePath ?? throw new InvalidOperationException($"{section}:CertificatePath is not set."),
            CertificateKeyPath, CertificatePassword, $"{section}:CertificatePath");

    /// <summary>Adds to <paramref name="failures"/> each certificate rule broken: files that do not exist, a CA without a listener, a required certificate without a CA.</summary>
    internal void AddCertificateFailures(List<string> failures)
    {
        ArgumentNullException.ThrowIfNull(failures);
        if (TlsEnabled && !File.Exists(CertificatePath))
        {
            failures.Add($"{section}:CertificatePath names a file that does not exist: '{CertificatePath}'.");
        }

        if (!string.IsNullOrEmpty(CertificateKeyPath) && !File.Exists(CertificateKeyPath))
        {
            failures.Add($"{section}:CertificateKeyPath names a file that does not exist: '{CertificateKeyPath}'.");
        }

        if (!string.IsNullOrEmpty(ClientCaPath))
        {
            if (!TlsEnabled)
            {
                failures.Add($"{section}:ClientCaPath needs {section}:CertificatePath: client certificates are checked on the {listener}.");
            }
            else if (!File.Exists(ClientCaPath))
            {
                failures.Add($"{section}:ClientCaPath names a file that does not exist: '{ClientCaPath}'.");
            }
        }

        if (RequireClientCertificate && string.IsNullOrEmpty(ClientCaPath))
        {
            failures.Add($"{section}:RequireClientCertificate needs {section}:ClientCaPath, the CA bundle client certificates are checked against.");
        }
    }
}
