using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Gateway.Sinks;

/// <summary>
/// A sink's TLS settings: TLS 1.2+ only, the server's certificate checked against the system store or a
/// configured CA bundle (host name included), and an optional client certificate for mutual TLS.
/// </summary>
public sealed class EgressTls
{
    private readonly X509Certificate2Collection? _trustedRoots;

    private EgressTls(X509Certificate2Collection? trustedRoots, X509Certificate2? clientCertificate)
    {
        _trustedRoots = trustedRoots;
        ClientCertificate = clientCertificate;
    }

    /// <summary>Protocols egress accepts.</summary>
    public static SslProtocols Protocols => SslProtocols.Tls12 | SslProtocols.Tls13;

    /// <summary>The client certificate with its private key, or null.</summary>
    public X509Certificate2? ClientCertificate { get; }

    /// <summary>Loads the CA bundle and client certificate a sink names.</summary>
    public static EgressTls From(SinkOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        X509Certificate2Collection? roots = null;
        if (options.CaCertificatePath is not null)
        {
            roots = [];
            roots.ImportFromPemFile(options.CaCertificatePath);
        }

        var client = options.ClientCertificatePath is not null && options.ClientKeyPath is not null
            ? X509Certificate2.CreateFromPemFile(options.ClientCertificatePath, options.ClientKeyPath)
            : null;
        return new EgressTls(roots, client);
    }

    /// <summary>Accepts the server's certificate only if it names the host and chains to a trusted root.</summary>
    public bool ValidateServerCertificate(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (_trustedRoots is null)
        {
            return errors == SslPolicyErrors.None;
        }

        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch) || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            return false;
        }

        using var customChain = new X509Chain();
        customChain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        customChain.ChainPolicy.CustomTrustStore.AddRange(_trustedRoots);
        customChain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            customChain.ChainPolicy.ExtraStore.AddRange(chain.ChainPolicy.ExtraStore);
        }

        return customChain.Build(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
    }
}
